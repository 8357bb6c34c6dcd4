"""Tax on a sales document: pure, exact arithmetic with the rounding written down.

One function, `compute_document`, turns lines (quantity, price, line discount,
tax rate) plus a document discount into taxable values, tax per component,
the tax breakdown per rate and component, an optional round-off and the grand
total. The regimes differ only in the components a rate carries:

- India GST: a rate (18 %) has CGST 9 % + SGST 9 % for supplies inside the
  company's state and IGST 18 % across states; the place of supply decides
  (`is_inter_state`).
- VAT: one component at the rate.
- US-style sales tax: state, county and city components, all applying.
- Zero-rated and exempt supplies: a rate with no components; the taxable value
  still appears in the breakdown (returns ask for it).

The order of operations, as an accountant would do it by hand:

1. gross = quantity x price, rounded to the currency's minor unit;
2. the line discount (percent of gross, or an amount) comes off;
3. the document discount (percent or amount) is spread over the lines in
   proportion to what is left (largest remainder, so it adds up exactly),
   before tax;
4. tax-exclusive prices: the result is the taxable value and tax is added;
   tax-inclusive prices: the result already holds the tax, which is taken out
   (taxable = value x 100 / (100 + rate));
5. rounding per line (each line's tax rounded, totals are sums) or per
   invoice (tax computed once per rate group on the summed values, then
   spread back over the lines), half-up or half-even;
6. optionally the grand total is rounded to a whole currency unit and the
   difference shown as a round-off line.

Every amount in the result is a Decimal at the currency's minor unit; lines,
components and breakdown add up exactly to the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money, Rounding, parse_decimal, quantum

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class TaxKind(StrEnum):
    GST = "gst"
    VAT = "vat"
    SALES_TAX = "sales_tax"
    ZERO_RATED = "zero_rated"
    EXEMPT = "exempt"


class Scope(StrEnum):
    """Where a component applies: inside the company's state, across states, always."""

    INTRA = "intra"
    INTER = "inter"
    ANY = "any"


class RoundingLevel(StrEnum):
    LINE = "line"
    INVOICE = "invoice"


@dataclass(frozen=True)
class Component:
    code: str  # CGST, SGST, IGST, VAT, STATE ...
    name: str
    rate: Decimal  # percent, e.g. Decimal("9")
    scope: Scope = Scope.ANY

    def applies(self, inter_state: bool) -> bool:
        if self.scope is Scope.ANY:
            return True
        return (self.scope is Scope.INTER) == inter_state


@dataclass(frozen=True)
class Rate:
    """A tax rate as applied to a line: its code, kind and components."""

    code: str
    name: str
    kind: TaxKind
    components: tuple[Component, ...] = ()

    def applicable(self, inter_state: bool) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.applies(inter_state))

    def total_rate(self, inter_state: bool) -> Decimal:
        return sum((c.rate for c in self.applicable(inter_state)), ZERO)

    @property
    def headline(self) -> Decimal:
        """The rate people quote (18 % for CGST 9 + SGST 9 / IGST 18)."""
        return max(self.total_rate(False), self.total_rate(True))


@dataclass(frozen=True)
class TaxPolicy:
    currency: str
    prices_include_tax: bool = False
    level: RoundingLevel = RoundingLevel.LINE
    rounding: Rounding = Rounding.HALF_UP
    round_off: bool = False  # round the grand total to a whole currency unit
    inter_state: bool = False


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    rate: Rate
    discount_percent: Decimal | None = None
    discount_amount: Decimal | None = None


@dataclass(frozen=True)
class ComponentTax:
    code: str
    name: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class LineTax:
    gross: Decimal  # quantity x price, rounded (inclusive of tax for inclusive prices)
    line_discount: Decimal
    document_discount: Decimal  # this line's share of the document discount
    taxable: Decimal
    components: tuple[ComponentTax, ...]
    tax: Decimal
    total: Decimal  # taxable + tax

    @property
    def discount(self) -> Decimal:
        return self.line_discount + self.document_discount


@dataclass(frozen=True)
class BreakdownRow:
    """Taxable value and tax of one rate and one of its components (or none)."""

    rate_code: str
    rate_name: str
    kind: TaxKind
    rate: Decimal  # the rate's total as applied (18 for CGST 9 + SGST 9)
    component_code: str | None
    component_name: str | None
    component_rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class DocumentTax:
    currency: str
    lines: tuple[LineTax, ...]
    gross_total: Decimal
    discount_total: Decimal
    taxable_total: Decimal
    tax_total: Decimal
    breakdown: tuple[BreakdownRow, ...]
    total_before_round_off: Decimal
    round_off: Decimal
    grand_total: Decimal
    document_discount: Decimal = field(default=ZERO)


# ------------------------------------------------------------------ helpers


def _round(value: Decimal, currency: str, rounding: Rounding) -> Decimal:
    return value.quantize(quantum(currency), rounding=rounding.decimal_mode)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`, adding up exactly (largest remainder).

    Zero weights get zero; all-zero weights with a non-zero total are refused.
    Negative totals split like positive ones (sign kept).
    """
    if not weights:
        return []
    if total == 0:
        return [_zero(currency)] * len(weights)
    if sum(weights, ZERO) <= 0:
        raise ValidationError("There is nothing to spread this amount over.")
    sign = -1 if total < 0 else 1
    parts = Money(abs(total), currency).allocate(list(weights))
    return [p.amount * sign for p in parts]


def _zero(currency: str) -> Decimal:
    return ZERO.quantize(quantum(currency))


def is_inter_state(company_state_code: str | None, place_of_supply_code: str | None,
                   *, company_country: str | None = None,
                   customer_country: str | None = None) -> bool:
    """True when a supply crosses a state border (IGST rather than CGST + SGST).

    No place of supply (a walk-in customer) means the company's own state. A
    customer in another country is an export, taxed like an inter-state supply.
    """
    if company_country and customer_country and \
            company_country.upper() != customer_country.upper():
        return True
    if not place_of_supply_code or not company_state_code:
        return False
    return place_of_supply_code.strip() != company_state_code.strip()


def _check_line(no: int, line: LineInput,
                currency: str) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """The unrounded gross of a valid line, and its discount percent or amount."""
    qty = parse_decimal(line.quantity, "quantity")
    price = parse_decimal(line.unit_price, "unit_price")
    if qty <= 0:
        raise ValidationError(f"Line {no}: quantity must be greater than zero.",
                              field="quantity")
    if price < 0:
        raise ValidationError(f"Line {no}: the price cannot be negative.", field="unit_price")
    if line.discount_percent is not None and line.discount_amount is not None:
        raise ValidationError(f"Line {no}: give the discount as a percent or as an amount, "
                              "not both.", field="discount")
    q = quantum(currency)
    if price != price.quantize(q):
        raise ValidationError(f"Line {no}: the price has more decimal places than {currency} "
                              "allows.", field="unit_price")
    pct = amt = None
    if line.discount_percent is not None:
        pct = parse_decimal(line.discount_percent, "discount_percent")
        if not ZERO <= pct <= HUNDRED:
            raise ValidationError(f"Line {no}: a discount percent is between 0 and 100.",
                                  field="discount_percent")
    elif line.discount_amount is not None:
        amt = parse_decimal(line.discount_amount, "discount_amount")
        if amt < 0:
            raise ValidationError(f"Line {no}: a discount cannot be negative.",
                                  field="discount_amount")
        if amt != amt.quantize(q):
            raise ValidationError(f"Line {no}: the discount has more decimal places than "
                                  f"{currency} allows.", field="discount_amount")
    return qty * price, pct, amt


# ------------------------------------------------------------------ the computation


def compute_document(lines: Sequence[LineInput], policy: TaxPolicy, *,
                     discount_percent: Decimal | None = None,
                     discount_amount: Decimal | None = None) -> DocumentTax:
    """Tax and totals of a document (see the module docstring for the order of steps)."""
    cur = policy.currency
    mode = policy.rounding
    if not lines:
        raise ValidationError("Add at least one line.", field="lines")

    # 1-2. gross and line discount
    gross: list[Decimal] = []
    line_disc: list[Decimal] = []
    for no, line in enumerate(lines, start=1):
        raw, pct, amt = _check_line(no, line, cur)
        g = _round(raw, cur, mode)
        if pct is not None:
            d = _round(g * pct / HUNDRED, cur, mode)
        elif amt is not None:
            d = amt.quantize(quantum(cur))
            if d > g:
                raise ValidationError(f"Line {no}: the discount is larger than the line's "
                                      "amount.", field="discount_amount")
        else:
            d = _zero(cur)
        gross.append(g)
        line_disc.append(d)
    net = [g - d for g, d in zip(gross, line_disc, strict=True)]
    net_total = sum(net, ZERO)

    # 3. document discount, spread before tax
    if discount_percent is not None and discount_amount is not None:
        raise ValidationError("Give the invoice discount as a percent or as an amount, "
                              "not both.", field="discount")
    doc_disc_total = _zero(cur)
    if discount_percent is not None:
        pct = parse_decimal(discount_percent, "discount_percent")
        if not ZERO <= pct <= HUNDRED:
            raise ValidationError("An invoice discount percent is between 0 and 100.",
                                  field="discount_percent")
        doc_disc_total = _round(net_total * pct / HUNDRED, cur, mode)
    elif discount_amount is not None:
        amt = parse_decimal(discount_amount, "discount_amount")
        if amt < 0:
            raise ValidationError("A discount cannot be negative.", field="discount_amount")
        if amt != amt.quantize(quantum(cur)):
            raise ValidationError(f"The discount has more decimal places than {cur} allows.",
                                  field="discount_amount")
        if amt > net_total:
            raise ValidationError("The invoice discount is larger than the invoice.",
                                  field="discount_amount")
        doc_disc_total = amt.quantize(quantum(cur))
    doc_disc = (allocate(doc_disc_total, net, cur) if doc_disc_total
                else [_zero(cur)] * len(lines))
    values = [n - d for n, d in zip(net, doc_disc, strict=True)]

    # 4-5. tax
    applicable = [ln.rate.applicable(policy.inter_state) for ln in lines]
    comp_amounts: list[list[Decimal]] = [[_zero(cur)] * len(a) for a in applicable]
    taxable: list[Decimal] = list(values)

    if policy.level is RoundingLevel.LINE:
        for i, line in enumerate(lines):
            comps = applicable[i]
            if not comps:
                continue
            if policy.prices_include_tax:
                total_rate = line.rate.total_rate(policy.inter_state)
                taxable[i] = _round(values[i] * HUNDRED / (HUNDRED + total_rate), cur, mode)
                comp_amounts[i] = _split_tax(values[i] - taxable[i], comps, cur)
            else:
                comp_amounts[i] = [_round(values[i] * c.rate / HUNDRED, cur, mode)
                                   for c in comps]
    else:
        groups: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            groups.setdefault(line.rate.code, []).append(i)
        for members in groups.values():
            rate = lines[members[0]].rate
            for j in members[1:]:
                if lines[j].rate != rate:
                    raise ValidationError(f"Two different tax rates share the code "
                                          f"{rate.code}.", field="lines")
            comps = applicable[members[0]]
            if not comps:
                continue
            weights = [values[i] for i in members]
            group_value = sum(weights, ZERO)
            if policy.prices_include_tax:
                total_rate = rate.total_rate(policy.inter_state)
                group_taxable = _round(group_value * HUNDRED / (HUNDRED + total_rate), cur,
                                       mode)
                shares = (allocate(group_taxable, weights, cur) if group_value
                          else [_zero(cur)] * len(members))
                for i, share in zip(members, shares, strict=True):
                    taxable[i] = share
                    comp_amounts[i] = _split_tax(values[i] - share, comps, cur)
            else:
                for k, c in enumerate(comps):
                    group_tax = _round(group_value * c.rate / HUNDRED, cur, mode)
                    shares = (allocate(group_tax, weights, cur) if group_value
                              else [_zero(cur)] * len(members))
                    for i, share in zip(members, shares, strict=True):
                        comp_amounts[i][k] = share

    line_results: list[LineTax] = []
    for i, _line in enumerate(lines):
        comps = tuple(ComponentTax(c.code, c.name, c.rate, a)
                      for c, a in zip(applicable[i], comp_amounts[i], strict=True))
        tax = sum((c.amount for c in comps), _zero(cur))
        line_results.append(LineTax(gross=gross[i], line_discount=line_disc[i],
                                    document_discount=doc_disc[i], taxable=taxable[i],
                                    components=comps, tax=tax, total=taxable[i] + tax))

    breakdown = _breakdown(lines, line_results, policy.inter_state, cur)
    taxable_total = sum((r.taxable for r in line_results), _zero(cur))
    tax_total = sum((r.tax for r in line_results), _zero(cur))
    before = taxable_total + tax_total
    if policy.round_off:
        whole = before.quantize(Decimal(1), rounding=mode.decimal_mode)
        round_off = (whole - before).quantize(quantum(cur))
    else:
        round_off = _zero(cur)
    return DocumentTax(
        currency=cur, lines=tuple(line_results), gross_total=sum(gross, _zero(cur)),
        discount_total=sum(line_disc, _zero(cur)) + doc_disc_total,
        taxable_total=taxable_total, tax_total=tax_total, breakdown=breakdown,
        total_before_round_off=before, round_off=round_off, grand_total=before + round_off,
        document_discount=doc_disc_total)


def _split_tax(tax: Decimal, comps: Sequence[Component], currency: str) -> list[Decimal]:
    """Tax taken out of an inclusive amount, split over components by their rates."""
    weights = [c.rate for c in comps]
    if sum(weights, ZERO) == 0:
        return [_zero(currency)] * len(comps)
    return allocate(tax, weights, currency)


def _breakdown(lines: Sequence[LineInput], results: Sequence[LineTax], inter_state: bool,
               currency: str) -> tuple[BreakdownRow, ...]:
    rows: dict[tuple[str, str | None], list[Decimal]] = {}
    meta: dict[tuple[str, str | None], tuple[Rate, Component | None]] = {}
    for line, res in zip(lines, results, strict=True):
        comps = line.rate.applicable(inter_state)
        if not comps:
            key = (line.rate.code, None)
            acc = rows.setdefault(key, [_zero(currency), _zero(currency)])
            acc[0] += res.taxable
            meta[key] = (line.rate, None)
            continue
        for comp, ct in zip(comps, res.components, strict=True):
            key = (line.rate.code, comp.code)
            acc = rows.setdefault(key, [_zero(currency), _zero(currency)])
            acc[0] += res.taxable
            acc[1] += ct.amount
            meta[key] = (line.rate, comp)
    out: list[BreakdownRow] = []
    for key, (taxable, tax) in rows.items():
        rate, comp = meta[key]
        out.append(BreakdownRow(
            rate_code=rate.code, rate_name=rate.name, kind=rate.kind,
            rate=rate.total_rate(inter_state), component_code=comp.code if comp else None,
            component_name=comp.name if comp else None,
            component_rate=comp.rate if comp else ZERO, taxable=taxable, tax=tax))
    out.sort(key=lambda r: (r.rate, r.rate_code, r.component_code or ""))
    return tuple(out)


def share_of(total: Decimal, done_qty: Decimal, new_qty: Decimal, full_qty: Decimal,
             currency: str, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """The part of `total` that `new_qty` more of `full_qty` takes, after `done_qty`.

    Cumulative, so that crediting a line in several parts adds up to exactly
    the line's amount once every unit is credited.
    """
    if full_qty <= 0:
        raise ValidationError("There is nothing to take a share of.")
    before = _round(total * done_qty / full_qty, currency, rounding)
    after = _round(total * (done_qty + new_qty) / full_qty, currency, rounding)
    return after - before


# ------------------------------------------------------------------ default rates


def _gst(rate: int) -> Rate:
    half = Decimal(rate) / 2
    return Rate(f"GST{rate}", f"GST {rate}%", TaxKind.GST, (
        Component("CGST", "CGST", half, Scope.INTRA),
        Component("SGST", "SGST", half, Scope.INTRA),
        Component("IGST", "IGST", Decimal(rate), Scope.INTER)))


DEFAULT_RATES: dict[str, tuple[Rate, ...]] = {
    "gst": (*(_gst(r) for r in (0, 5, 12, 18, 28)),
            Rate("ZERO", "Zero-rated (exports)", TaxKind.ZERO_RATED),
            Rate("EXEMPT", "Exempt", TaxKind.EXEMPT)),
    "vat": (Rate("VAT20", "VAT standard 20%", TaxKind.VAT,
                 (Component("VAT", "VAT", Decimal(20)),)),
            Rate("VAT5", "VAT reduced 5%", TaxKind.VAT,
                 (Component("VAT", "VAT", Decimal(5)),)),
            Rate("VAT0", "VAT zero-rated", TaxKind.ZERO_RATED),
            Rate("EXEMPT", "Exempt", TaxKind.EXEMPT)),
    "sales_tax": (Rate("ST", "Sales tax 8.875%", TaxKind.SALES_TAX, (
                      Component("STATE", "State sales tax", Decimal("4")),
                      Component("CITY", "City sales tax", Decimal("4.5")),
                      Component("MCTD", "Transit district tax", Decimal("0.375")))),
                  Rate("EXEMPT", "Exempt (resale, food)", TaxKind.EXEMPT)),
    "none": (Rate("NONE", "No tax", TaxKind.EXEMPT),),
}
