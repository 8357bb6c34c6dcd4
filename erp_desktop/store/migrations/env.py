"""Alembic environment: always run in-process on a connection the app opened.

The store opens the encrypted file itself (a key is needed), so the connection
is handed over in `config.attributes["connection"]`. `target_metadata` is only
needed for autogenerate (tools/regen_initial_migration.py passes it in).
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
