"""Tax categories: what kind of goods or service a product is, for tax purposes.

A product points at a category ("Standard goods", "Essential food", "Services");
the category carries the default HSN/SAC code and, with the invoicing issue,
the tax rates and their components (CGST/SGST/IGST, VAT ...). Kept small here
so that rates can be added as their own tables without touching products.
"""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity


class TaxCategory(Entity, Base):
    __tablename__ = "tax_category"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    hsn_sac: Mapped[str | None] = mapped_column(String(10))  # default code for its products
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
