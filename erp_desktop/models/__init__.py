"""SQLAlchemy 2.x mapped classes, one module per business area.

Importing this package registers every table on `Base.metadata`.
"""

from erp_desktop.models.base import Base

__all__ = ["Base"]
