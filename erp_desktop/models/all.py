"""Import every model module so that `Base.metadata` knows every table."""

from erp_desktop.models import (  # noqa: F401
    audit,
    changes,
    company,
    hr,
    inventory,
    ledger,
    purchasing,
    security,
    tax,
)
from erp_desktop.models import sales, taxes  # noqa: F401,E402
