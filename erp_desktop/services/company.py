"""Create a company file, and read or change the company profile.

`create_company` is the `init` use case: a new encrypted database and its key
file, the company profile, a head-office branch, this device (series `A`), the
default roles, the first admin, the default chart of accounts, and the
recovery passphrase shown once. Either all of it exists afterwards or none.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.chart import SMALL_BUSINESS_CHART
from erp_desktop.domain.errors import NotFound, ValidationError
from erp_desktop.domain.gstin import STATE_CODES, validate_gstin
from erp_desktop.domain.money import normalise_currency
from erp_desktop.domain.passwords import check_password
from erp_desktop.models.company import Branch, Company, Device, LocalSecret
from erp_desktop.models.database import Database
from erp_desktop.models.ledger import Account
from erp_desktop.models.security import Role, User
from erp_desktop.services import audit
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Actor, Context, DeviceInfo, Vault, system_clock
from erp_desktop.store.company_file import create_database, sidecar_paths
from erp_desktop.store.keyfile import (
    KeyFile,
    generate_recovery_passphrase,
    key_file_path,
    normalise_login,
)

TAX_REGIMES = ("gst", "vat", "sales_tax", "none")
EVENTS_KEY = "login_events_private_key"
THIS_DEVICE = "this_device_id"


@dataclass(frozen=True)
class NewCompany:
    legal_name: str
    country: str = "IN"
    base_currency: str = "INR"
    tax_regime: str = "gst"
    fiscal_year_start_month: int = 4
    locale: str = "en_IN"
    state: str | None = None
    state_code: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    phone: str | None = None
    email: str | None = None
    gstin: str | None = None
    vat_id: str | None = None
    trade_name: str | None = None


@dataclass(frozen=True)
class NewAdmin:
    login_name: str
    full_name: str
    password: str
    email: str | None = None


@dataclass(frozen=True)
class CreatedCompany:
    context: Context
    recovery_passphrase: str  # shown once; never stored in the clear


@dataclass(frozen=True)
class CompanyProfile:
    legal_name: str
    trade_name: str | None
    address: str | None
    city: str | None
    state: str | None
    state_code: str | None
    postal_code: str | None
    country: str
    phone: str | None
    email: str | None
    gstin: str | None
    vat_id: str | None
    base_currency: str
    locale: str
    tax_regime: str
    fiscal_year_start_month: int
    books_locked_until: date | None


def validate_login_name(login: str) -> str:
    """The login name as stored: stripped and NFC (so a name typed on a Mac matches)."""
    login = unicodedata.normalize("NFC", login or "").strip()
    if not login:
        raise ValidationError("Enter a login name.", field="login_name")
    if len(login) > 64 or not all(c.isalnum() or c in "._-@" for c in login):
        raise ValidationError("A login name is up to 64 letters, digits and . _ - @.",
                              field="login_name")
    return login


def _validate_new_company(c: NewCompany) -> None:
    if not c.legal_name or not c.legal_name.strip():
        raise ValidationError("Enter the company's legal name.", field="legal_name")
    if len(c.country or "") != 2 or not c.country.isalpha():
        raise ValidationError("Country is a two-letter code such as IN, DE or US.",
                              field="country")
    normalise_currency(c.base_currency)
    if c.tax_regime not in TAX_REGIMES:
        raise ValidationError(f"Tax regime must be one of {', '.join(TAX_REGIMES)}.",
                              field="tax_regime")
    if not 1 <= c.fiscal_year_start_month <= 12:
        raise ValidationError("The fiscal year starts in a month from 1 to 12.",
                              field="fiscal_year_start_month")


def seed_chart_of_accounts(session: Session) -> None:
    by_code: dict[str, Account] = {}
    for t in SMALL_BUSINESS_CHART:
        acc = Account(code=t.code, name=t.name, type=t.type, system_key=t.system_key,
                      is_group=t.is_group,
                      parent_id=by_code[t.parent].id if t.parent else None)
        session.add(acc)
        session.flush()
        by_code[t.code] = acc


def create_company(path: Path, company: NewCompany, admin: NewAdmin, *, config: AppConfig,
                   device: DeviceInfo,
                   clock: Callable[[], datetime] = system_clock) -> CreatedCompany:
    """The `init` use case (see module docstring)."""
    path = Path(path)
    _validate_new_company(company)
    login = validate_login_name(admin.login_name)
    if not (admin.full_name or "").strip():
        raise ValidationError("Enter the admin's full name.", field="full_name")
    check_password(admin.password, login)

    new = KeyFile.create(key_file_path(path), kdf=config.kdf)  # refuses an existing key file
    engine = create_database(path, new.db_key, cache_kib=config.cache_kib)  # refuses existing
    db = Database(engine)
    try:
        with db.write() as s:
            row = Company(**{f.name: getattr(company, f.name) for f in fields(company)})
            row.legal_name = company.legal_name.strip()
            row.base_currency = normalise_currency(company.base_currency)
            row.country = company.country.upper()
            s.add(row)
            branch = Branch(code="HO", name="Head office", state=company.state,
                            state_code=company.state_code)
            s.add(branch)
            s.flush()
            this_device = Device(code=device.code, name=device.host or "This computer",
                                 branch_id=branch.id)
            s.add(this_device)
            roles = {}
            for name, (label, desc, perms) in DEFAULT_ROLES.items():
                roles[name] = Role(name=name, label=label, description=desc, builtin=True,
                                   permissions=json.dumps(sorted(perms)))
                s.add(roles[name])
            s.flush()
            user = User(login_name=login, login_key=normalise_login(login),
                        full_name=admin.full_name.strip(), email=admin.email,
                        role_id=roles["admin"].id, active=True, password_changed_at=clock())
            s.add(user)
            s.flush()
            s.info["actor_id"] = user.id
            s.add(LocalSecret(name=EVENTS_KEY, value=new.events_private_key))
            s.add(LocalSecret(name=THIS_DEVICE, value=this_device.id.bytes))
            seed_chart_of_accounts(s)
            actor = Actor(user.id, login, user.full_name, "admin", DEFAULT_ROLES["admin"][2])
            audit.record(s, None, "company.created", entity="company", entity_id=row.id,
                         actor_id=user.id, actor_name=login, device_code=device.code, at=clock())
        recovery = generate_recovery_passphrase()
        new.keyfile.add_user_slot(login, admin.password, new.db_key)
        new.keyfile.set_recovery_slot(recovery, new.db_key)
        new.keyfile.save()
    except BaseException:
        engine.dispose()
        for p in sidecar_paths(path)[:3]:
            p.unlink(missing_ok=True)
        raise
    ctx = Context(db=db, path=path, vault=Vault(new.keyfile, new.db_key), actor=actor,
                  device=device, config=config, clock=clock)
    return CreatedCompany(ctx, recovery)


def _profile_of(row: Company) -> CompanyProfile:
    return CompanyProfile(**{f.name: getattr(row, f.name) for f in fields(CompanyProfile)})


def get_profile(ctx: Context) -> CompanyProfile:
    ctx.require("company.view")
    with ctx.db.read() as s:
        row = s.scalars(select(Company).where(Company.deleted_at.is_(None))).first()
        if row is None:
            raise NotFound("This company file has no company profile.")
        return _profile_of(row)


_OPTIONAL_TEXT = ("trade_name", "address", "city", "state", "state_code", "postal_code", "phone",
                  "email", "gstin", "vat_id")


def _clean_profile_changes(changes: dict[str, object]) -> dict[str, object]:
    """Validate profile changes as `create_company` validates a new profile."""
    clean: dict[str, object] = {}
    for name, value in changes.items():
        if name in _OPTIONAL_TEXT:
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be text.",
                                      field=name)
            value = (value or "").strip() or None
        elif name == "legal_name":
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("Enter the company's legal name.", field="legal_name")
            value = value.strip()
        elif name == "country":
            if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
                raise ValidationError("Country is a two-letter code such as IN, DE or US.",
                                      field="country")
            value = value.upper()
        elif name == "tax_regime":
            if value not in TAX_REGIMES:
                raise ValidationError(f"Tax regime must be one of {', '.join(TAX_REGIMES)}.",
                                      field="tax_regime")
        elif name == "fiscal_year_start_month":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
                raise ValidationError("The fiscal year starts in a month from 1 to 12.",
                                      field="fiscal_year_start_month")
        elif name == "locale":
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("Enter a locale such as en_IN.", field="locale")
            value = value.strip()
        clean[name] = value
    return clean


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The lengths the columns of `company` hold (a synced server enforces them).
_LENGTHS = {"legal_name": 200, "trade_name": 200, "city": 100, "state": 100, "state_code": 8,
            "postal_code": 20, "phone": 40, "email": 200, "vat_id": 20, "locale": 16,
            "address": 1000}
_LABELS = {"legal_name": "The legal name", "trade_name": "The trade name",
           "city": "The city", "state": "The state", "state_code": "The state code",
           "postal_code": "The postal code", "phone": "The phone number",
           "email": "The e-mail address", "vat_id": "The VAT number", "locale": "The locale",
           "address": "The address"}



def check_profile_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """Profile changes cleaned and checked, without the database (field by field;
    `check_merged_profile` checks fields against each other once merged)."""
    allowed = {f.name for f in fields(CompanyProfile)} - {"books_locked_until", "base_currency"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unknown or read-only company fields: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    clean = _clean_profile_changes(dict(changes))
    for name, value in clean.items():
        limit = _LENGTHS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise ValidationError(f"{_LABELS[name]} is at most {limit} characters.", field=name)
    if clean.get("gstin"):
        clean["gstin"] = validate_gstin(str(clean["gstin"]))
    if clean.get("email") and not _EMAIL.match(str(clean["email"])):
        raise ValidationError("Enter an e-mail address like accounts@example.com.",
                              field="email")
    if clean.get("vat_id"):
        vat = "".join(str(clean["vat_id"]).split()).upper()
        if not vat.isalnum():
            raise ValidationError("A VAT number is letters and digits, such as DE123456789.",
                                  field="vat_id")
        clean["vat_id"] = vat
    if clean.get("locale"):
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(str(clean["locale"]))
        except (ValueError, UnknownLocaleError):
            raise ValidationError(f"'{clean['locale']}' is not a locale; write it like en_IN "
                                  "or de_DE.", field="locale") from None
    return clean


def check_merged_profile(row: Company) -> None:
    """Rules between fields, on the profile as it will be saved."""
    if row.tax_regime == "gst" and row.state_code and row.state_code not in STATE_CODES:
        raise ValidationError(f"'{row.state_code}' is not a GST state code (Karnataka is 29, "
                              "Maharashtra 27).", field="state_code")
    if row.gstin and row.state_code and row.gstin[:2] != row.state_code:
        state = STATE_CODES.get(row.gstin[:2], row.gstin[:2])
        raise ValidationError(f"This GSTIN is registered in {state} ({row.gstin[:2]}), but "
                              f"the company's state code is {row.state_code}.", field="gstin")


def update_profile(ctx: Context, **changes: object) -> CompanyProfile:
    """Change profile fields (not the base currency once documents exist)."""
    ctx.require("company.edit")
    clean = check_profile_changes(changes)
    with ctx.db.write(ctx.actor.user_id) as s:
        row = s.scalars(select(Company).where(Company.deleted_at.is_(None))).first()
        if row is None:
            raise NotFound("This company file has no company profile.")
        changed = sorted(k for k, v in clean.items() if getattr(row, k) != v)
        for k in changed:
            setattr(row, k, clean[k])
        check_merged_profile(row)  # raising here rolls the changes back
        if changed:
            audit.record(s, ctx, "company.updated", entity="company", entity_id=row.id,
                         details={"fields": changed})
        # Built here, not through get_profile: company.edit must not need company.view.
        return _profile_of(row)
