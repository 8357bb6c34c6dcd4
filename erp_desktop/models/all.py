"""Import every model module so that `Base.metadata` knows every table."""

from erp_desktop.models import audit, changes, company, ledger, security  # noqa: F401
