"""Reference epoch, and the outbox indexed by entity id alone (docs/decisions/0031).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Written by hand (docs/decisions/0003: no application code here).

- One row, `reference_epoch.n`, raised by triggers on every INSERT, UPDATE and
  DELETE of the reference tables the posting paths read again and again
  (company, settings, tax rates and categories, units, accounts, warehouses,
  price lists), whoever writes them: this app, another process, raw SQL. The
  app keeps what it read from those tables across transactions and reads only
  `n` at the start of a write transaction to know whether that is still valid.
- The outbox's (entity, entity_id) index becomes (entity_id): ids are UUIDv7,
  unique across tables and time-ordered, so new entries all land at the right
  edge of one index instead of at the end of one run per entity (a sale
  writes rows of nine entities: nine index pages to encrypt and sync, now one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here as of this revision (the models' list may grow in a later revision).
REFERENCE_TABLES = ("company", "setting", "tax_rate", "tax_component", "tax_category",
                    "tax_category_rate", "unit_of_measure", "account", "warehouse",
                    "price_list")


def upgrade() -> None:
    op.create_table(
        "reference_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_reference_epoch_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_epoch")),
    )
    op.execute("INSERT INTO reference_epoch (id, n) VALUES (1, 0)")
    op.drop_index("ix_outbox_entity_entity_id", table_name="outbox")
    op.create_index("ix_outbox_entity_id", "outbox", ["entity_id"], unique=False)
    for table in REFERENCE_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER reference_epoch_{table}_{event.lower()} AFTER {event} "
                       f"ON {table} BEGIN UPDATE reference_epoch SET n = n + 1; END")


def downgrade() -> None:
    op.drop_index("ix_outbox_entity_id", table_name="outbox")
    op.create_index("ix_outbox_entity_entity_id", "outbox", ["entity", "entity_id"], unique=False)
    for table in REFERENCE_TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER reference_epoch_{table}_{event}")
    op.drop_table("reference_epoch")
