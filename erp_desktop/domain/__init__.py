"""Plain-Python business vocabulary: money, quantities, ids, numbering, errors.

Nothing here imports SQLAlchemy, Qt or any I/O library, so every rule can be
tested and reused anywhere (CLI, services, sync server).
"""
