"""Work done ahead while a person types their password: imports and SQLAlchemy set-up.

The login window shows before any service is imported (start-up stays quick)
and then calls `warm_up()` on a worker thread. It imports what a login and
the first page after it (the dashboard) need, the dashboard's lazily
imported services included, and configures SQLAlchemy's mappers, which the
first query would otherwise do: measured on a company with 1M invoice lines,
"Log in" to the main window went from about 1.5 s to 0.3 s (bench/ui_bench).
Nothing here opens a company file or needs a login.
"""

from __future__ import annotations

import importlib

# The login's services, the dashboard's, and what the dashboard reads lazily.
MODULES = ("erp_desktop.services.auth", "erp_desktop.services.company",
           "erp_desktop.services.dashboard", "erp_desktop.services.sales",
           "erp_desktop.services.inventory", "erp_desktop.services.payroll")


def warm_up() -> None:
    """Import `MODULES` and configure every mapper they define (idempotent)."""
    for name in MODULES:
        importlib.import_module(name)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
