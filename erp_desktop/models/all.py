"""Import every model module so that `Base.metadata` knows every table."""

from erp_desktop.models import (  # noqa: F401
    audit,
    changes,
    company,
    hr,
    inventory,
    ledger,
    purchasing,
    sales,
    security,
    tax,
    taxes,
)
