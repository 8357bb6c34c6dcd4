"""Creating a company file, and the company profile."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import (
    KeyFileError,
    PermissionDenied,
    StoreError,
    UserError,
    ValidationError,
)
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import audit, auth, company
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.context import Actor
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keyfile import KeyFile, key_file_path, normalise_recovery_passphrase

ADMIN_PASSWORD = "correct horse battery"
SHOP = NewCompany(legal_name="Lakshmi Stores", country="IN", base_currency="INR",
                  tax_regime="gst", state="Karnataka", state_code="29")
OWNER = NewAdmin("lakshmi", "Lakshmi Rao", "jasmine and coffee", "lakshmi@example.com")


@pytest.fixture
def create(config, device, clock):
    opened = []

    def do(path, new_company=SHOP, admin=OWNER):
        created = create_company(path, new_company, admin, config=config, device=device,
                                 clock=clock)
        opened.append(created.context)
        return created

    yield do
    for ctx in opened:
        ctx.close()


def files_in(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


def every_value(path, key: bytes) -> list[str]:
    """All text and blob values in the decrypted database, as text."""
    con = connect_raw(path, key)
    values = []
    try:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for v in row:
                    if isinstance(v, bytes):
                        values.append(v.decode("latin-1"))
                    elif isinstance(v, str):
                        values.append(v)
    finally:
        con.close()
    return values


# ------------------------------------------------------------------ creating


def test_create_company_makes_a_file_that_opens(create, tmp_path, config, device, clock):
    path = tmp_path / "Lakshmi Stores.erp"
    created = create(path)
    ctx = created.context
    assert ctx.actor.login_name == "lakshmi" and ctx.actor.can("users.manage")
    assert files_in(tmp_path) >= {path.name, key_file_path(path).name}
    profile = company.get_profile(ctx)
    assert (profile.legal_name, profile.base_currency, profile.country) == (
        "Lakshmi Stores", "INR", "IN")
    assert [e.action for e in audit.list_events(ctx)] == ["company.created"]
    assert audit.verify(ctx).ok
    ctx.close()
    again = auth.login(path, "lakshmi", OWNER.password, config=config, device=device,
                       clock=clock)
    try:
        assert again.actor.role_name == "admin"
    finally:
        again.close()


def test_an_existing_company_file_is_never_replaced(create, company_path):
    before = {p: p.read_bytes() for p in sidecar_paths(company_path) if p.exists()}
    with pytest.raises((StoreError, KeyFileError)) as err:
        create(company_path)
    assert "already exists" in str(err.value)
    assert {p: p.read_bytes() for p in before} == before


def test_a_file_that_is_not_a_company_file_is_not_replaced_either(create, tmp_path):
    path = tmp_path / "Lakshmi Stores.erp"
    path.write_text("my notes, not a company\n")
    with pytest.raises(StoreError) as err:
        create(path)
    assert err.value.field == "path" and "already exists" in str(err.value)
    assert path.read_text() == "my notes, not a company\n"
    assert files_in(tmp_path) == {path.name}


@pytest.mark.parametrize("leftover", ["-wal", ".key"])
def test_a_leftover_sidecar_file_blocks_creation(create, tmp_path, leftover):
    path = tmp_path / "Lakshmi Stores.erp"
    other = tmp_path / (path.name + leftover)
    other.write_bytes(b"someone else's")
    with pytest.raises(UserError, match="already exists"):
        create(path)
    assert other.read_bytes() == b"someone else's"
    assert files_in(tmp_path) == {other.name}


def test_a_missing_folder_is_refused(create, tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        create(tmp_path / "no such folder" / "Shop.erp")
    assert files_in(tmp_path) == set()


@pytest.mark.parametrize(("company_changes", "admin_changes", "field"), [
    ({"legal_name": "  "}, {}, "legal_name"),
    ({"country": "India"}, {}, "country"),
    ({"base_currency": "RUPEES"}, {}, "currency"),
    ({"tax_regime": "gsst"}, {}, "tax_regime"),
    ({"fiscal_year_start_month": 13}, {}, "fiscal_year_start_month"),
    ({}, {"login_name": "lakshmi rao"}, "login_name"),
    ({}, {"full_name": ""}, "full_name"),
    ({}, {"password": "short"}, "password"),
    ({}, {"password": "lakshmi-rao-2026"}, "password"),
])
def test_bad_input_is_refused_with_the_field_and_leaves_no_file(create, tmp_path,
                                                                company_changes, admin_changes,
                                                                field):
    with pytest.raises(ValidationError) as err:
        create(tmp_path / "Shop.erp", dataclasses.replace(SHOP, **company_changes),
               dataclasses.replace(OWNER, **admin_changes))
    assert err.value.field == field
    assert files_in(tmp_path) == set()


def test_a_failure_half_way_leaves_no_file_behind(create, tmp_path, monkeypatch):
    def broken(session):
        raise RuntimeError("disk hiccup while seeding the chart")

    monkeypatch.setattr(company, "seed_chart_of_accounts", broken)
    with pytest.raises(RuntimeError):
        create(tmp_path / "Shop.erp")
    assert files_in(tmp_path) == set()


def test_a_key_file_that_cannot_be_saved_leaves_no_file_behind(create, tmp_path, monkeypatch):
    def refuse(self):
        raise KeyFileError("The key file could not be saved (disk full).")

    monkeypatch.setattr(KeyFile, "save", refuse)
    with pytest.raises(KeyFileError):
        create(tmp_path / "Shop.erp")
    assert files_in(tmp_path) == set()


def test_the_recovery_passphrase_is_shown_once_and_stored_nowhere(create, tmp_path, config,
                                                                  device, clock):
    path = tmp_path / "Shop.erp"
    created = create(path)
    phrase = created.recovery_passphrase
    assert len(phrase.split("-")) == 8
    key = created.context.vault.db_key
    created.context.close()
    forms = {phrase, normalise_recovery_passphrase(phrase), phrase.lower()}
    for f in tmp_path.iterdir():
        data = f.read_bytes()
        for form in forms:
            assert form.encode() not in data, f.name
    values = every_value(path, key)
    assert values  # the database was really read
    for form in forms:
        assert not [v for v in values if form in v]
    assert not [v for v in values if OWNER.password in v]
    # It was not lost: it opens the file.
    ctx = auth.recover_admin(path, phrase, "lakshmi", "a fresh admin secret", config=config,
                             device=device, clock=clock)
    ctx.close()


# ------------------------------------------------------------------- profile


def test_get_profile(admin_ctx):
    p = company.get_profile(admin_ctx)
    assert p.legal_name == "Template Traders Pvt Ltd"
    assert (p.gstin, p.state_code, p.fiscal_year_start_month) == ("29ABCDE1234F1Z5", "29", 4)


def test_update_profile_changes_and_audits_only_what_changed(admin_ctx):
    p = company.update_profile(admin_ctx, city=" Bengaluru ", phone="+91 80 1234 5678",
                               legal_name="Template Traders Pvt Ltd", country="in")
    assert (p.city, p.phone, p.country) == ("Bengaluru", "+91 80 1234 5678", "IN")
    assert company.get_profile(admin_ctx) == p
    ev = audit.list_events(admin_ctx, action_prefix="company.updated")[-1]
    assert ev.details == {"fields": ["city", "phone"]}


def test_an_update_that_changes_nothing_is_not_audited(admin_ctx):
    company.update_profile(admin_ctx, legal_name="Template Traders Pvt Ltd")
    assert audit.list_events(admin_ctx, action_prefix="company.updated") == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"legal_name": " "}, "legal_name"),
    ({"country": "IND"}, "country"),
    ({"tax_regime": "flat"}, "tax_regime"),
    ({"fiscal_year_start_month": 0}, "fiscal_year_start_month"),
    ({"base_currency": "USD"}, "base_currency"),  # read-only here
    ({"books_locked_until": None}, "books_locked_until"),  # the ledger's business
    ({"shoe_size": 42}, "shoe_size"),
    ({"city": 42}, "city"),
])
def test_update_profile_refuses_bad_input(admin_ctx, changes, field):
    before = company.get_profile(admin_ctx)
    with pytest.raises(ValidationError) as err:
        company.update_profile(admin_ctx, **changes)
    assert err.value.field == field
    assert company.get_profile(admin_ctx) == before


def test_profile_permissions(admin_ctx):
    def acting_with(*permissions: str):
        a = admin_ctx.actor
        return dataclasses.replace(admin_ctx, actor=Actor(a.user_id, a.login_name, a.full_name,
                                                          "custom", frozenset(permissions)))

    nobody = acting_with()
    with pytest.raises(PermissionDenied):
        company.get_profile(nobody)
    with pytest.raises(PermissionDenied):
        company.update_profile(nobody, city="Mysuru")
    viewer = acting_with("company.view")
    assert company.get_profile(viewer).legal_name == "Template Traders Pvt Ltd"
    with pytest.raises(PermissionDenied):
        company.update_profile(viewer, city="Mysuru")
    # Editing does not also need company.view.
    assert company.update_profile(acting_with("company.edit"), city="Mysuru").city == "Mysuru"
    with admin_ctx.db.read() as s:
        denied = [json.loads(e.details)["permission"] for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "permission.denied"))]
    assert denied == ["company.view", "company.edit", "company.edit"]
