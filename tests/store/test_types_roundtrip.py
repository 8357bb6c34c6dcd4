"""Money, quantity, id and datetime columns round-trip exactly through the encrypted file."""

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from erp_desktop.domain.money import Money
from erp_desktop.models.base import Entity, QuantityType, UTCDateTime, money_property
from erp_desktop.models.database import Database
from erp_desktop.store.engine import make_engine


class _Base(DeclarativeBase):
    pass


class Sample(Entity, _Base):
    __tablename__ = "sample"
    __outbox__ = False

    label: Mapped[str] = mapped_column(String(40))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    qty: Mapped[Decimal] = mapped_column(QuantityType)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    price = money_property("price_minor")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("types") / "types.erp"
    engine = make_engine(path, os.urandom(32))
    _Base.metadata.create_all(engine)
    yield Database(engine)
    engine.dispose()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minor=st.integers(min_value=-(2**62), max_value=2**62),
       currency=st.sampled_from(["INR", "EUR", "JPY", "BHD"]),
       qty=st.decimals(min_value=-(10**12), max_value=10**12, places=3, allow_nan=False,
                       allow_infinity=False),
       at=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1),
                       timezones=st.just(UTC)))
def test_values_round_trip(db, minor, currency, qty, at):
    with db.write() as s:
        row = Sample(label="x", currency=currency, price_minor=0, qty=qty, at=at)
        row.price = Money.from_minor(minor, currency)
        s.add(row)
        s.flush()
        row_id = row.id
    with db.read() as s:
        back = s.get(Sample, row_id)
        assert back.price == Money.from_minor(minor, currency)
        assert back.qty == qty
        assert back.at == at and back.at.tzinfo is not None
        assert isinstance(back.id, uuid.UUID) and back.id.version == 7


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive"), db.write() as s:
        s.add(Sample(label="n", currency="INR", price_minor=1, qty=Decimal(1),
                     at=datetime(2026, 1, 1)))


def test_money_property_refuses_other_currency(db):
    row = Sample(label="m", currency="INR", price_minor=0, qty=Decimal(0),
                 at=datetime.now(UTC))
    with pytest.raises(ValueError, match="EUR amount on a INR record"):
        row.price = Money.of(1, "EUR")


def test_version_increments_for_optimistic_locking(db):
    with db.write() as s:
        row = Sample(label="v", currency="INR", price_minor=1, qty=Decimal(1),
                     at=datetime.now(UTC))
        s.add(row)
    with db.write() as s:
        r = s.get(Sample, row.id)
        r.label = "v2"
    with db.read() as s:
        assert s.scalar(select(Sample.version).where(Sample.id == row.id)) == 2
