"""Tax rates and their components, and which rate each tax category carries.

A `TaxRate` ("GST 18%", "VAT standard 20%", "Sales tax 8.875%") is a set of
`TaxComponent`s (CGST 9 % inside the state, SGST 9 % inside the state, IGST
18 % across states; one VAT component; state, city and district sales tax),
each posting to a tax payable account. `TaxCategoryRate` links a product's
`TaxCategory` (models.tax, owned by the catalogue) to its rate by id, so the
catalogue never needs to know about components. Issued documents copy the
rate they used (see models.sales), so changing a rate never changes history.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity

TAX_KINDS = ("gst", "vat", "sales_tax", "zero_rated", "exempt")
SCOPES = ("intra", "inter", "any")


class TaxRate(Entity, Base):
    __tablename__ = "tax_rate"
    __table_args__ = (CheckConstraint(
        "kind IN ('gst','vat','sales_tax','zero_rated','exempt')", name="kind"),)

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)


class TaxComponent(Entity, Base):
    __tablename__ = "tax_component"
    __table_args__ = (
        CheckConstraint("scope IN ('intra','inter','any')", name="scope"),
        Index(None, "rate_id", "seq"),
    )

    rate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tax_rate.id"))
    seq: Mapped[int] = mapped_column(default=1)
    code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(60))
    rate_pct: Mapped[Decimal]  # percent, three decimal places (8.875)
    scope: Mapped[str] = mapped_column(String(6), default="any")
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))


class TaxCategoryRate(Entity, Base):
    """The rate a tax category's products are sold at."""

    __tablename__ = "tax_category_rate"

    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tax_category.id"), unique=True)
    rate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tax_rate.id"))
