"""The demo company's shop floor: catalogue, two stores, vendors and a season of purchasing.

`demo_inventory(ctx)` adds to Sharma Electronics & Home (see `services.demo`):
tax categories, 56 products across eight categories (lighting, fans, kitchen
appliances, cookware, wiring, switches, batteries, home care, plus two
services) with EAN-13 barcodes whose check digits are right, the Jayanagar
and Indiranagar stores as warehouses, seven vendors, opening stock on 1 April,
and purchase orders in every state: received, billed and paid; partly
received; with a debit note for damaged goods; ordered and awaiting delivery;
a draft; a cancelled one. Plus a stand-alone bill with an expense line, a
transfer between the stores, an adjustment for breakage and a stock-take.

Everything goes through the same services a person would use. Each document
is made "on its own day": the step runs with a copy of the context whose
clock shows that day, so the dates are fixed (April to mid-November 2026) and
the demo file is the same whenever it is built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from erp_desktop.domain.barcodes import with_check_digit
from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.gstin import check_character
from erp_desktop.services import catalogue, inventory, purchasing
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.context import Context
from erp_desktop.services.inventory import IssueLine, ReceiptLine
from erp_desktop.services.purchasing import (
    BillLineInput,
    DebitNoteLineInput,
    OrderLineInput,
    VendorInput,
)

D = Decimal

TAX_CATEGORIES = (
    ("GST18", "Electrical goods and appliances (18%)", "8516"),
    ("GST12", "Utensils and kitchenware (12%)", "7323"),
    ("GST5", "Essential household goods (5%)", "3401"),
    ("GST28", "Large appliances (28%)", "8418"),
    ("SVC18", "Services (18%)", "9987"),
)

WAREHOUSES = (("JAY", "Jayanagar store", "HO"), ("IND", "Indiranagar store", "IND"))

# Brand -> the company prefix of its EAN-13 barcodes (890 is GS1 India).
_BRANDS = {"Philips": "8901", "Havells": "8902", "Crompton": "8903", "Bajaj": "8904",
           "Usha": "8905", "Prestige": "8906", "Pigeon": "8907", "Finolex": "8908",
           "Anchor": "8909", "Duracell": "8910", "Eveready": "8911", "Syska": "8912",
           "Milton": "8913", "Borosil": "8914", "Godrej": "8915", "Wipro": "8916"}


@dataclass(frozen=True)
class _Item:
    sku: str
    name: str
    category: str
    sale: str
    cost: str
    tax: str
    hsn: str
    unit: str = "pcs"
    reorder: tuple[int | str, int | str] = (0, 0)  # level, quantity

    @property
    def brand(self) -> str:
        return self.name.split()[0]


# fmt: off
CATALOGUE: tuple[_Item, ...] = (
    # Lighting
    _Item("PH-LED9", "Philips Stellar Bright LED bulb 9W cool day light", "Lighting", "110.00", "71.50", "GST18", "8539", reorder=(60, 200)),  # noqa: E501
    _Item("PH-LED12", "Philips Stellar Bright LED bulb 12W warm white", "Lighting", "145.00", "94.00", "GST18", "8539", reorder=(40, 150)),  # noqa: E501
    _Item("PH-BATTEN20", "Philips LED batten 20W 2 ft", "Lighting", "399.00", "262.00", "GST18", "9405", reorder=(20, 60)),  # noqa: E501
    _Item("HV-LED9", "Havells Adore LED bulb 9W", "Lighting", "105.00", "68.00", "GST18", "8539", reorder=(50, 200)),  # noqa: E501
    _Item("HV-PANEL15", "Havells Trim LED panel 15W round", "Lighting", "649.00", "421.00", "GST18", "9405", reorder=(10, 30)),  # noqa: E501
    _Item("SY-LED7", "Syska SSK LED bulb 7W", "Lighting", "89.00", "55.00", "GST18", "8539", reorder=(50, 200)),  # noqa: E501
    _Item("SY-TORCH", "Syska rechargeable LED torch", "Lighting", "349.00", "218.00", "GST18", "8513", reorder=(10, 40)),  # noqa: E501
    _Item("WP-EMERG", "Wipro Garnet emergency LED bulb 9W", "Lighting", "499.00", "318.00", "GST18", "8539", reorder=(15, 50)),  # noqa: E501
    # Fans
    _Item("CR-HS48", "Crompton HS Plus ceiling fan 48 inch brown", "Fans", "2150.00", "1610.00", "GST18", "8414", reorder=(8, 20)),  # noqa: E501
    _Item("CR-TABLE16", "Crompton High Flo table fan 16 inch", "Fans", "2450.00", "1820.00", "GST18", "8414", reorder=(4, 12)),  # noqa: E501
    _Item("HV-ES48", "Havells ES-50 ceiling fan 48 inch white", "Fans", "2399.00", "1775.00", "GST18", "8414", reorder=(6, 20)),  # noqa: E501
    _Item("US-PED400", "Usha Maxx Air pedestal fan 400 mm", "Fans", "3290.00", "2440.00", "GST18", "8414", reorder=(3, 10)),  # noqa: E501
    _Item("BJ-EXH150", "Bajaj Bahar exhaust fan 150 mm", "Fans", "1199.00", "860.00", "GST18", "8414", reorder=(5, 15)),  # noqa: E501
    _Item("US-WALL400", "Usha Mist Air wall fan 400 mm", "Fans", "2890.00", "2110.00", "GST18", "8414", reorder=(3, 8)),  # noqa: E501
    # Kitchen appliances
    _Item("PR-MG750", "Prestige Iris mixer grinder 750W 3 jars", "Kitchen appliances", "3699.00", "2690.00", "GST18", "8509", reorder=(4, 12)),  # noqa: E501
    _Item("BJ-MG500", "Bajaj Rex mixer grinder 500W 3 jars", "Kitchen appliances", "2899.00", "2080.00", "GST18", "8509", reorder=(5, 15)),  # noqa: E501
    _Item("PR-IND1200", "Prestige PIC 20 induction cooktop 1200W", "Kitchen appliances", "2599.00", "1890.00", "GST18", "8516", reorder=(4, 10)),  # noqa: E501
    _Item("PH-KET15", "Philips electric kettle 1.5 litre", "Kitchen appliances", "1695.00", "1210.00", "GST18", "8516", reorder=(6, 18)),  # noqa: E501
    _Item("BJ-OTG16", "Bajaj Majesty OTG 16 litre", "Kitchen appliances", "4699.00", "3420.00", "GST18", "8516", reorder=(2, 6)),  # noqa: E501
    _Item("PH-IRON1000", "Philips GC1905 dry iron 1000W", "Kitchen appliances", "995.00", "705.00", "GST18", "8516", reorder=(8, 24)),  # noqa: E501
    _Item("US-IRON", "Usha EI 1602 dry iron 1000W", "Kitchen appliances", "849.00", "601.00", "GST18", "8516", reorder=(6, 20)),  # noqa: E501
    _Item("PG-TOAST", "Pigeon pop-up toaster 750W", "Kitchen appliances", "1299.00", "905.00", "GST18", "8516", reorder=(3, 10)),  # noqa: E501
    _Item("GD-FRIDGE190", "Godrej Edge refrigerator 190 litre single door", "Kitchen appliances", "16990.00", "13450.00", "GST28", "8418", reorder=(1, 3)),  # noqa: E501
    # Cookware
    _Item("PR-PC3", "Prestige Popular pressure cooker 3 litre", "Cookware", "1695.00", "1180.00", "GST12", "7615", reorder=(8, 24)),  # noqa: E501
    _Item("PR-PC5", "Prestige Popular pressure cooker 5 litre", "Cookware", "2150.00", "1510.00", "GST12", "7615", reorder=(6, 18)),  # noqa: E501
    _Item("PG-TAWA", "Pigeon non-stick flat tawa 28 cm", "Cookware", "699.00", "452.00", "GST12", "7323", reorder=(8, 24)),  # noqa: E501
    _Item("PG-KADAI", "Pigeon non-stick kadai 24 cm with lid", "Cookware", "899.00", "590.00", "GST12", "7323", reorder=(6, 18)),  # noqa: E501
    _Item("ML-FLASK1", "Milton Thermosteel flask 1 litre", "Cookware", "1099.00", "740.00", "GST12", "9617", reorder=(10, 30)),  # noqa: E501
    _Item("ML-BOTTLE", "Milton Aqua steel bottle 750 ml", "Cookware", "449.00", "296.00", "GST12", "7323", reorder=(20, 60)),  # noqa: E501
    _Item("BR-JUG", "Borosil glass jug 1.5 litre", "Cookware", "799.00", "528.00", "GST12", "7013", reorder=(6, 18)),  # noqa: E501
    _Item("BR-BOWLSET", "Borosil mixing bowl set of 3", "Cookware", "1199.00", "802.00", "GST12", "7013", reorder=(4, 12)),  # noqa: E501
    # Wiring
    _Item("FX-W15", "Finolex FR house wire 1.5 sq mm red", "Wiring", "24.00", "16.80", "GST18", "8544", unit="m", reorder=(300, 900)),  # noqa: E501
    _Item("FX-W25", "Finolex FR house wire 2.5 sq mm black", "Wiring", "38.00", "26.60", "GST18", "8544", unit="m", reorder=(300, 900)),  # noqa: E501
    _Item("HV-W40", "Havells Lifeline wire 4.0 sq mm red", "Wiring", "61.00", "43.20", "GST18", "8544", unit="m", reorder=(150, 450)),  # noqa: E501
    _Item("FX-TV", "Finolex TV coaxial cable RG6", "Wiring", "18.00", "11.50", "GST18", "8544", unit="m", reorder=(100, 300)),  # noqa: E501
    _Item("AN-EXT4", "Anchor extension board 4 sockets 2 m cord", "Wiring", "549.00", "362.00", "GST18", "8536", reorder=(10, 30)),  # noqa: E501
    _Item("HV-MCB32", "Havells MCB 32A single pole", "Wiring", "289.00", "188.00", "GST18", "8536", reorder=(20, 60)),  # noqa: E501
    _Item("HV-RCCB", "Havells RCCB 40A 30 mA double pole", "Wiring", "2299.00", "1590.00", "GST18", "8536", reorder=(3, 10)),  # noqa: E501
    # Switches
    _Item("AN-SW6", "Anchor Roma switch 6A one way", "Switches", "42.00", "27.50", "GST18", "8536", reorder=(100, 300)),  # noqa: E501
    _Item("AN-SK6", "Anchor Roma socket 6A 3 pin", "Switches", "89.00", "58.00", "GST18", "8536", reorder=(60, 200)),  # noqa: E501
    _Item("AN-PLATE8", "Anchor Roma cover plate 8 module", "Switches", "199.00", "128.00", "GST18", "8538", reorder=(20, 60)),  # noqa: E501
    _Item("AN-REG", "Anchor Roma fan regulator 5 step", "Switches", "449.00", "296.00", "GST18", "8536", reorder=(15, 45)),  # noqa: E501
    _Item("HV-BELL", "Havells ding dong door bell", "Switches", "329.00", "212.00", "GST18", "8531", reorder=(6, 20)),  # noqa: E501
    # Batteries
    _Item("DC-AA4", "Duracell AA alkaline batteries pack of 4", "Batteries", "180.00", "122.00", "GST18", "8506", reorder=(40, 120)),  # noqa: E501
    _Item("DC-AAA4", "Duracell AAA alkaline batteries pack of 4", "Batteries", "180.00", "122.00", "GST18", "8506", reorder=(40, 120)),  # noqa: E501
    _Item("EV-AA10", "Eveready AA carbon zinc batteries pack of 10", "Batteries", "150.00", "98.00", "GST18", "8506", reorder=(30, 100)),  # noqa: E501
    _Item("EV-9V", "Eveready 9V battery", "Batteries", "65.00", "42.00", "GST18", "8506", reorder=(20, 60)),  # noqa: E501
    _Item("DC-CR2032", "Duracell CR2032 lithium coin cell", "Batteries", "110.00", "70.00", "GST18", "8506", reorder=(20, 60)),  # noqa: E501
    # Home care
    _Item("GD-LOCK", "Godrej Ultra XL+ padlock 65 mm", "Home care", "899.00", "610.00", "GST18", "8301", reorder=(5, 15)),  # noqa: E501
    _Item("WP-MOSQ", "Wipro mosquito repellent machine", "Home care", "129.00", "84.00", "GST18", "8516", reorder=(30, 90)),  # noqa: E501
    _Item("US-HEATER", "Usha room heater 2000W", "Home care", "2390.00", "1720.00", "GST18", "8516", reorder=(2, 6)),  # noqa: E501
    _Item("BJ-GEYSER15", "Bajaj New Shakti storage geyser 15 litre", "Home care", "8499.00", "6390.00", "GST18", "8516", reorder=(2, 6)),  # noqa: E501
    _Item("PH-TRIM", "Philips BT1232 beard trimmer", "Home care", "1149.00", "812.00", "GST18", "8510", reorder=(5, 15)),  # noqa: E501
    _Item("HV-DRYER", "Havells HD3151 hair dryer 1200W", "Home care", "1095.00", "768.00", "GST18", "8516", reorder=(4, 12)),  # noqa: E501
    _Item("GD-DETERG", "Godrej Ezee liquid detergent 1 kg", "Home care", "245.00", "178.00", "GST5", "3402", reorder=(24, 72)),  # noqa: E501
)
# fmt: on

SERVICES = (
    ProductInput(sku="SVC-FANFIT", name="Ceiling fan fitting at home", unit="nos",
                 category="Services", sale_price="350.00", tax_category="SVC18",
                 hsn_sac="998719", is_service=True),
    ProductInput(sku="SVC-WIRING", name="Electrician visit (per hour)", unit="hr",
                 category="Services", sale_price="400.00", tax_category="SVC18",
                 hsn_sac="998719", is_service=True),
)


def _gstin(pan_letters: str, pan_digits: str) -> str:
    first14 = f"29{pan_letters}{pan_digits}F1Z"
    return first14 + check_character(first14)


VENDORS = (
    VendorInput("Jyothi Lighting House", contact_person="Suresh Jyothi",
                email="orders@jyothilighting.example", phone="+91 80 2670 1144",
                address="18, SP Road, Chickpet", city="Bengaluru", state="Karnataka",
                state_code="29", country="IN", tax_id=_gstin("AAFFJ", "2231"),
                payment_terms_days=30, bank_name="Karnataka Bank",
                bank_account="1172000100034501", bank_code="KARB0000117"),
    VendorInput("Balaji Electricals Wholesale", contact_person="Venkatesh Balaji",
                email="sales@balajielectricals.example", phone="+91 80 2287 5530",
                address="4th Cross, Kalasipalya Main Road", city="Bengaluru",
                state="Karnataka", state_code="29", country="IN",
                tax_id=_gstin("AADFB", "7710"), payment_terms_days=45,
                bank_name="Canara Bank", bank_account="0412201009921",
                bank_code="CNRB0000412"),
    VendorInput("Annapoorna Home Needs Distributors", contact_person="Lakshmi Narayan",
                email="accounts@annapoornahome.example", phone="+91 80 2656 3320",
                address="22, 2nd Main, Chamarajpet", city="Bengaluru", state="Karnataka",
                state_code="29", country="IN", tax_id=_gstin("AAJFA", "4409"),
                payment_terms_days=30, bank_name="State Bank of India",
                bank_account="32115567890", bank_code="SBIN0040277"),
    VendorInput("Sri Lakshmi Agencies", contact_person="Ramesh Gowda",
                email="srilakshmi.agencies@example.in", phone="+91 98450 22117",
                address="Plot 9, Peenya 2nd Stage", city="Bengaluru", state="Karnataka",
                state_code="29", country="IN", tax_id=_gstin("ABBFS", "1185"),
                payment_terms_days=21, bank_name="HDFC Bank", bank_account="50200011223344",
                bank_code="HDFC0001752"),
    VendorInput("Ganesh Wires & Cables", contact_person="Ganesh Prabhu",
                email="ganesh.wires@example.in", phone="+91 99000 41236",
                address="Shop 3, JC Road", city="Bengaluru", state="Karnataka",
                state_code="29", country="IN", tax_id=_gstin("AAKFG", "6654"),
                payment_terms_days=15, bank_name="ICICI Bank", bank_account="002105012345",
                bank_code="ICIC0000021"),
    VendorInput("Bharath Batteries & Accessories", contact_person="Imran Pasha",
                email="imran@bharathbatteries.example", phone="+91 80 2221 0098",
                address="Avenue Road", city="Bengaluru", state="Karnataka", state_code="29",
                country="IN", tax_id=_gstin("AAQFB", "3390"), payment_terms_days=30,
                bank_name="Indian Bank", bank_account="6123456789",
                bank_code="IDIB000A012"),
    VendorInput("Coastal Appliances Pvt Ltd", contact_person="Deepa Shenoy",
                email="deepa@coastalappliances.example", phone="+91 824 242 5511",
                address="Kankanady Road", city="Mangaluru", state="Karnataka",
                state_code="29", country="IN", tax_id=_gstin("AADCC", "9012"),
                payment_terms_days=30, notes="Godrej and Usha large appliances"),
)


@dataclass
class DemoInventory:
    products: int = 0
    vendors: int = 0
    orders: dict[str, str] = field(default_factory=dict)  # label -> PO number
    bills: list[str] = field(default_factory=list)
    stock_value: Decimal = Decimal("0.00")


class _Calendar:
    """The demo's clock: each document is made at 11:00 in Bengaluru on its own day."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 4, 1, 5, 30, tzinfo=UTC)

    def day(self, on: date) -> date:
        self.moment = datetime(on.year, on.month, on.day, 5, 30, tzinfo=UTC)
        return on

    def __call__(self) -> datetime:
        return self.moment


def barcode_of(item: _Item, n: int) -> str:
    """EAN-13: the brand's company prefix, an item number, the GS1 check digit."""
    return with_check_digit(_BRANDS.get(item.brand, "8999") + f"{n:08d}")


def demo_inventory(ctx: Context, clock: Callable[[], datetime] | None = None) -> DemoInventory:
    """Add the demo's catalogue, stores, vendors and purchasing history (see docstring).

    `clock` is not needed: the documents carry the demo's fixed dates (the step
    runs on a copy of `ctx` whose clock shows each document's day).
    """
    del clock
    cal = _Calendar()
    c = replace(ctx, clock=cal)
    out = DemoInventory()
    day = cal.day

    day(date(2026, 4, 1))
    existing = {t.code for t in catalogue.list_tax_categories(c)}
    for code, name, hsn in TAX_CATEGORIES:
        if code not in existing:  # invoicing may have added its own first
            catalogue.create_tax_category(c, code, name, hsn_sac=hsn)
    for code, name, branch in WAREHOUSES:
        try:
            inventory.create_warehouse(c, code, name, branch=branch)
        except ValidationError:  # a demo built without the Indiranagar branch
            inventory.create_warehouse(c, code, name)
    for n, item in enumerate(CATALOGUE, start=1):
        catalogue.create_product(c, ProductInput(
            sku=item.sku, name=item.name, unit=item.unit, category=item.category,
            barcode=barcode_of(item, n), sale_price=item.sale, purchase_price=item.cost,
            tax_category=item.tax, hsn_sac=item.hsn, reorder_level=item.reorder[0],
            reorder_qty=item.reorder[1]))
    for svc in SERVICES:
        catalogue.create_product(c, svc)
    out.products = len(CATALOGUE) + len(SERVICES)
    vendors = {}
    for v in VENDORS:
        vendors[v.name.split()[0]] = purchasing.create_vendor(c, v).id
    out.vendors = len(VENDORS)

    # Opening stock counted on 1 April: about three reorder levels of most things.
    opening = [ReceiptLine(i.sku, _opening_qty(i), i.cost) for i in CATALOGUE
               if _opening_qty(i) > 0]
    inventory.receive_stock(c, "JAY", opening, move_date=day(date(2026, 4, 1)),
                            note="Opening stock counted on 1 April")
    inventory.receive_stock(c, "IND", [ReceiptLine(i.sku, max(1, _opening_qty(i) // 3), i.cost)
                                       for i in CATALOGUE[:30] if _opening_qty(i) > 0],
                            move_date=day(date(2026, 4, 1)),
                            note="Opening stock counted on 1 April")

    # Fans before summer: ordered, received in full, billed, paid.
    day(date(2026, 4, 6))
    fans = purchasing.create_purchase_order(c, vendors["Balaji"], [
        OrderLineInput("CR-HS48", 24, "1610.00", 18),
        OrderLineInput("HV-ES48", 20, "1775.00", 18),
        OrderLineInput("BJ-EXH150", 12, "860.00", 18),
        OrderLineInput("CR-TABLE16", 10, "1820.00", 18)],
        warehouse="JAY", expected_date=date(2026, 4, 10))
    purchasing.place_order(c, fans.id)
    out.orders["fans (paid)"] = fans.number
    day(date(2026, 4, 9))
    purchasing.receive_purchase_order(c, fans.id, vendor_ref="DC/BE/0412")
    day(date(2026, 4, 10))
    fans_bill = _bill_order(c, out, fans.id, "BE/26-27/0188")

    # Kitchen appliances and cookware: received, billed, paid in part.
    day(date(2026, 5, 4))
    kitchen = purchasing.create_purchase_order(c, vendors["Annapoorna"], [
        OrderLineInput("PR-MG750", 10, "2690.00", 18),
        OrderLineInput("PR-IND1200", 8, "1890.00", 18),
        OrderLineInput("PR-PC3", 24, "1180.00", 12),
        OrderLineInput("PR-PC5", 18, "1510.00", 12),
        OrderLineInput("PG-TAWA", 24, "452.00", 12)], warehouse="JAY")
    purchasing.place_order(c, kitchen.id)
    out.orders["kitchen (part paid)"] = kitchen.number
    day(date(2026, 5, 8))
    purchasing.receive_purchase_order(c, kitchen.id, vendor_ref="AHN/DC/2231")
    kitchen_bill = _bill_order(c, out, kitchen.id, "AHN/1502")
    day(date(2026, 5, 20))
    purchasing.pay_bill(c, fans_bill, reference="NEFT UTR KKBKH26140552")
    day(date(2026, 6, 5))
    purchasing.pay_bill(c, kitchen_bill, "50000.00", reference="NEFT UTR SBIN26156001")

    # Breakage, then cable drums bought without an order (with the delivery charge).
    day(date(2026, 8, 7))
    inventory.adjust_stock(c, "JAY", "PR-MG750", -1, "Jar cracked during a demonstration")
    day(date(2026, 8, 18))
    draft = purchasing.create_bill(c, vendors["Ganesh"], [
        BillLineInput("FX-W15", 900, "16.80", 18), BillLineInput("FX-W25", 900, "26.60", 18),
        BillLineInput(None, 1, "450.00", 18, description="Delivery by tempo", account="6900")],
        warehouse="IND", vendor_ref="GWC/331")
    cables = purchasing.post_bill(c, draft.id)
    out.bills.append(cables.number or "")
    day(date(2026, 8, 30))
    purchasing.pay_bill(c, cables.id, method="cash", reference="Cash voucher 118")

    # Refrigerators ordered, then cancelled: no delivery before Deepavali.
    day(date(2026, 9, 10))
    fridges = purchasing.create_purchase_order(c, vendors["Coastal"], [
        OrderLineInput("GD-FRIDGE190", 4, "13450.00", 28)], warehouse="JAY")
    purchasing.place_order(c, fridges.id)
    day(date(2026, 9, 18))
    purchasing.cancel_purchase_order(c, fridges.id, "Vendor cannot deliver before Deepavali")
    out.orders["refrigerators (cancelled)"] = fridges.number

    # Lighting for the festive season: received, a debit note for broken bulbs, paid.
    day(date(2026, 9, 22))
    lights = purchasing.create_purchase_order(c, vendors["Jyothi"], [
        OrderLineInput("PH-LED9", 400, "71.50", 18),
        OrderLineInput("PH-LED12", 200, "94.00", 18),
        OrderLineInput("HV-LED9", 300, "68.00", 18),
        OrderLineInput("SY-LED7", 300, "55.00", 18),
        OrderLineInput("WP-EMERG", 40, "318.00", 18)], warehouse="JAY")
    purchasing.place_order(c, lights.id)
    out.orders["lighting (debit note)"] = lights.number
    day(date(2026, 9, 26))
    purchasing.receive_purchase_order(c, lights.id, vendor_ref="JLH/DC/7781")
    lights_bill = _bill_order(c, out, lights.id, "JLH/26-27/1123")
    day(date(2026, 9, 29))
    bill = purchasing.get_bill(c, lights_bill)
    broken = next(ln for ln in bill.lines if ln.sku == "PH-LED9")
    purchasing.create_debit_note(c, lights_bill, [DebitNoteLineInput(broken.id, 12)],
                                 "12 bulbs broken in transit (carton crushed)")

    # A festive display at Indiranagar.
    day(date(2026, 10, 1))
    inventory.transfer_stock(c, "JAY", "IND", [
        IssueLine("PH-LED9", 60), IssueLine("HV-LED9", 60), IssueLine("CR-HS48", 6),
        IssueLine("AN-EXT4", 6)], note="Festive display at Indiranagar")

    # Switches and wiring: half delivered so far, the delivered part billed, unpaid.
    day(date(2026, 10, 5))
    switches = purchasing.create_purchase_order(c, vendors["Balaji"], [
        OrderLineInput("AN-SW6", 300, "27.50", 18),
        OrderLineInput("AN-SK6", 200, "58.00", 18),
        OrderLineInput("AN-REG", 40, "296.00", 18),
        OrderLineInput("HV-MCB32", 60, "188.00", 18)],
        warehouse="JAY", expected_date=date(2026, 10, 20))
    purchasing.place_order(c, switches.id)
    out.orders["switches (partly received)"] = switches.number
    day(date(2026, 10, 12))
    purchasing.receive_purchase_order(c, switches.id, vendor_ref="DC/BE/1077", quantities={
        "AN-SW6": 150, "AN-SK6": 100, "HV-MCB32": 60})
    _bill_order(c, out, switches.id, "BE/26-27/0931")

    # Batteries straight into the Indiranagar store: received, billed, open.
    day(date(2026, 10, 14))
    cells = purchasing.create_purchase_order(c, vendors["Bharath"], [
        OrderLineInput("DC-AA4", 120, "122.00", 18),
        OrderLineInput("DC-AAA4", 120, "122.00", 18),
        OrderLineInput("EV-AA10", 100, "98.00", 18),
        OrderLineInput("DC-CR2032", 60, "70.00", 18)], warehouse="IND")
    purchasing.place_order(c, cells.id)
    out.orders["batteries (open bill)"] = cells.number
    day(date(2026, 10, 16))
    purchasing.receive_purchase_order(c, cells.id)
    _bill_order(c, out, cells.id, "BBA/5521")
    day(date(2026, 10, 24))
    purchasing.pay_bill(c, lights_bill, reference="NEFT UTR KKBKH26297310")

    # Winter stock ordered and awaiting delivery.
    day(date(2026, 11, 10))
    heaters = purchasing.create_purchase_order(c, vendors["Sri"], [
        OrderLineInput("US-HEATER", 10, "1720.00", 18),
        OrderLineInput("BJ-GEYSER15", 6, "6390.00", 18)],
        warehouse="IND", expected_date=date(2026, 11, 20))
    purchasing.place_order(c, heaters.id)
    out.orders["heaters (ordered)"] = heaters.number

    # The half-yearly count at Indiranagar.
    day(date(2026, 11, 12))
    sheet = inventory.start_stock_take(c, "IND", note="Half-yearly count")
    counts = {ln.sku: ln.expected_qty for ln in sheet.lines}
    counts["DC-AA4"] = counts.get("DC-AA4", D(0)) - 2  # two packs missing
    counts["FX-W15"] = counts.get("FX-W15", D(0)) - D("3.5")  # offcuts never recorded
    counts["AN-SW6"] = counts.get("AN-SW6", D(0)) + 5  # found in a drawer
    inventory.record_counts(c, sheet.id, counts)
    inventory.post_stock_take(c, sheet.id)

    # Next month's order, still a draft.
    day(date(2026, 11, 14))
    gifts = purchasing.create_purchase_order(c, vendors["Annapoorna"], [
        OrderLineInput("ML-FLASK1", 30, "740.00", 12),
        OrderLineInput("ML-BOTTLE", 60, "296.00", 12)],
        notes="Wedding season gift items; confirm prices before placing")
    out.orders["gift items (draft)"] = gifts.number

    out.stock_value = inventory.valuation(c, date(2026, 11, 15)).total_value.amount
    return out


def _bill_order(c: Context, out: DemoInventory, order_id: uuid.UUID, vendor_ref: str
                ) -> uuid.UUID:
    bill = purchasing.post_bill(c, purchasing.create_bill_from_order(
        c, order_id, vendor_ref=vendor_ref).id)
    out.bills.append(bill.number or "")
    return bill.id


# Sold faster than expected since April: below their reorder level by November.
_RUNNING_LOW = {"PH-TRIM", "US-PED400", "BR-JUG", "EV-9V", "GD-LOCK", "HV-RCCB", "PG-KADAI"}


def _opening_qty(item: _Item) -> int:
    level = int(Decimal(str(item.reorder[0])))
    return level // 2 if item.sku in _RUNNING_LOW else level * 3
