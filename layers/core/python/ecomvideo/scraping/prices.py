"""Locale-aware price and currency parsing into ``Decimal``."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

# Currencies whose prices are written without minor units.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF", "IDR"})

ISO_CODES = frozenset(
    {
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CAD",
        "AUD",
        "NZD",
        "CHF",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "HRK",
        "RUB",
        "UAH",
        "TRY",
        "INR",
        "CNY",
        "HKD",
        "SGD",
        "KRW",
        "TWD",
        "THB",
        "VND",
        "IDR",
        "MYR",
        "PHP",
        "BRL",
        "MXN",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "ZAR",
        "ILS",
        "AED",
        "SAR",
        "EGP",
        "NGN",
        "KES",
        "ISK",
        "KZT",
        "MKD",
        "RSD",
        "BYN",
        "GEL",
        "UYU",
        "CRC",
        "PYG",
        "BAM",
        "QAR",
        "KWD",
        "PKR",
        "BDT",
        "LKR",
        "MAD",
    }
)

# Longest symbols first so "US$" wins over "$". Ambiguous ones map to None and are settled
# by the domain's TLD.
_SYMBOLS: list[tuple[str, str | None]] = sorted(
    [
        ("US$", "USD"),
        ("USD", "USD"),
        ("CA$", "CAD"),
        ("C$", "CAD"),
        ("A$", "AUD"),
        ("AU$", "AUD"),
        ("NZ$", "NZD"),
        ("HK$", "HKD"),
        ("S$", "SGD"),
        ("R$", "BRL"),
        ("MX$", "MXN"),
        ("€", "EUR"),
        ("£", "GBP"),
        ("¥", None),
        ("￥", None),
        ("円", "JPY"),
        ("₹", "INR"),
        ("₩", "KRW"),
        ("₽", "RUB"),
        ("₺", "TRY"),
        ("₫", "VND"),
        ("฿", "THB"),
        ("₪", "ILS"),
        ("₴", "UAH"),
        ("zł", "PLN"),
        ("Kč", "CZK"),
        ("Ft", "HUF"),
        ("lei", "RON"),
        ("CHF", "CHF"),
        ("Fr.", "CHF"),
        ("kr", None),
        ("$", None),
        ("元", None),
        ("RM", "MYR"),
        ("₱", "PHP"),
        ("NT$", "TWD"),
        ("kn", "HRK"),
        ("лв", "BGN"),
        ("тг", "KZT"),
        ("₸", "KZT"),
        ("원", "KRW"),
        ("ден", "MKD"),
        ("дин", "RSD"),
        ("din", "RSD"),
        ("Lei", "RON"),
        ("LEI", "RON"),
        ("ر.س", "SAR"),
        ("د.إ", "AED"),
        ("грн", "UAH"),
        ("руб", "RUB"),  # noqa: RUF001
        ("₾", "GEL"),
        ("₦", "NGN"),
        ("KSh", "KES"),
        ("S/", "PEN"),
        ("₡", "CRC"),
        ("₲", "PYG"),
        ("KM", "BAM"),
        ("Rp", "IDR"),
    ],
    key=lambda item: -len(item[0]),
)

_EURO_TLDS = (
    "de",
    "at",
    "fr",
    "it",
    "es",
    "nl",
    "be",
    "ie",
    "fi",
    "pt",
    "gr",
    "sk",
    "si",
    "ee",
    "lv",
    "lt",
    "lu",
    "mt",
    "cy",
    "hr",
)
# Country-code TLD -> currency, used for ambiguous symbols and when nothing else is known.
TLD_CURRENCY = {
    "uk": "GBP",
    "jp": "JPY",
    "ca": "CAD",
    "au": "AUD",
    "nz": "NZD",
    "in": "INR",
    "ch": "CHF",
    "se": "SEK",
    "no": "NOK",
    "dk": "DKK",
    "pl": "PLN",
    "cz": "CZK",
    "hu": "HUF",
    "ro": "RON",
    "br": "BRL",
    "mx": "MXN",
    "cn": "CNY",
    "kr": "KRW",
    "sg": "SGD",
    "hk": "HKD",
    "tr": "TRY",
    "ru": "RUB",
    "za": "ZAR",
    "ua": "UAH",
    "il": "ILS",
    "ae": "AED",
    "tw": "TWD",
    "th": "THB",
    "my": "MYR",
    "ph": "PHP",
    "id": "IDR",
    "vn": "VND",
    "cl": "CLP",
    "co": None,
    "ar": "ARS",
    "kz": "KZT",
    "mk": "MKD",
    "rs": "RSD",
    "by": "BYN",
    "bg": "BGN",
    "sa": "SAR",
    "pe": "PEN",
    "uy": "UYU",
    "ge": "GEL",
    "ba": "BAM",
    "ng": "NGN",
    "ke": "KES",
    **dict.fromkeys(_EURO_TLDS, "EUR"),
}
# Region part of a locale ("de-DE", "en_GB") -> currency.
REGION_CURRENCY = {k.upper(): v for k, v in TLD_CURRENCY.items() if v} | {"GB": "GBP", "US": "USD"}

# Digits with separators; a space only counts as a thousands separator before 3 digits, so
# "$19.99 $29.99" is two numbers, not one.
_NUMBER = re.compile(r"\d+(?:[.,'\u2019]\d+|[ \u00a0\u202f]\d{3}(?!\d))*")
_MACHINE = re.compile(r"^-?\d+(?:\.\d+)?$")


# Currencies written with "$" in their own country (dollars and pesos).
_DOLLAR_OR_PESO = frozenset(
    {"CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP", "UYU"}
)


def tld_currency(domain: str) -> str | None:
    """Currency implied by a domain's country-code TLD (``shop.co.uk`` -> GBP)."""
    tld = domain.rsplit(".", 1)[-1].lower() if domain else ""
    return TLD_CURRENCY.get(tld)


def locale_currency(locale: str | None) -> str | None:
    """Currency implied by a locale such as ``de-DE``, ``en_GB`` or ``ja-JP``."""
    if not locale:
        return None
    parts = re.split(r"[-_]", locale.strip())
    if len(parts) >= 2:
        return REGION_CURRENCY.get(parts[-1].upper())
    return {"ja": "JPY"}.get(parts[0].lower())


def detect_currency(text: str | None, *, domain: str = "") -> str | None:
    """ISO 4217 code written in or implied by ``text`` (symbol or code), using the domain's
    TLD to settle ambiguous symbols like ``$``, ``¥`` and ``kr``."""
    if not text:
        return None
    upper = text.upper()
    for code in re.findall(r"\b[A-Z]{3}\b", upper):
        if code in ISO_CODES:
            return code
    for symbol, code in _SYMBOLS:
        if symbol in text:
            if code:
                return code
            tld = tld_currency(domain)
            if symbol == "$":
                return tld if tld in _DOLLAR_OR_PESO else "USD"
            if symbol == "元":
                return tld if tld in {"TWD", "HKD"} else "CNY"
            if symbol in ("¥", "￥"):
                return "CNY" if tld == "CNY" else "JPY"
            if symbol == "kr":
                return tld if tld in {"SEK", "NOK", "DKK", "ISK"} else "SEK"
    return None


def parse_price(
    value: object, *, currency: str | None = None, machine: bool = False
) -> Decimal | None:
    """Parse a price written by a human or a machine into a ``Decimal``.

    Handles ``1.299,00 €``, ``1,299.00``, ``1 299,00 zł``, ``1'299.00 CHF``, ``¥1,299``,
    ``£12.50``, ``From $19.99`` (first number) and plain numbers. A single separator followed
    by exactly three digits is a thousands separator (``1.299`` = 1299). Zero-decimal
    currencies (JPY...) are returned without fraction. ``machine=True`` (structured data)
    reads ``19.999`` as a decimal number instead of nineteen thousand.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            return None
        return _finish(result, currency)
    text = str(value).strip()
    if not text:
        return None
    if machine and _MACHINE.match(text):
        return _finish(Decimal(text), currency)
    match = _NUMBER.search(text)
    if not match:
        return None
    number = re.sub(r"[\s\u00a0\u202f'\u2019]", "", match.group(0))
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        decimal_sep = "." if number.rfind(".") > number.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        number = number.replace(thousands, "").replace(decimal_sep, ".")
    elif dots or commas:
        sep = "." if dots else ","
        head, _, tail = number.rpartition(sep)
        if (dots + commas) > 1 or (len(tail) == 3 and head.lstrip("0") != ""):
            number = number.replace(sep, "")
        else:
            number = number.replace(sep, ".")
    try:
        return _finish(Decimal(number), currency)
    except InvalidOperation:
        return None


def _finish(amount: Decimal, currency: str | None) -> Decimal | None:
    if amount < 0 or not amount.is_finite():
        return None
    if currency in ZERO_DECIMAL:
        return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    # Money columns are DECIMAL(10,2): one canonical scale keeps comparisons and JSON stable.
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cents_to_amount(cents: object) -> Decimal | None:
    """Shopify ``.js`` money (integer minor units) to a ``Decimal`` amount."""
    if cents is None or isinstance(cents, bool):
        return None
    try:
        return (Decimal(str(cents)) / 100).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def discount_percent(price: Decimal | None, original: Decimal | None) -> int | None:
    """Whole-percent discount of ``price`` against ``original`` (None unless it is a discount)."""
    if price is None or original is None or original <= 0 or price >= original:
        return None
    pct = (Decimal(1) - price / original) * 100
    return int(pct.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_SHOWN_SYMBOLS = (
    "|".join(re.escape(s) for s, _ in _SYMBOLS if s not in ("kr", "Fr.", "din", "KM"))
    + "|"
    + "|".join(sorted(ISO_CODES))
)
# An amount written next to a currency: "$ 29", "2320 元", "44 890 тг.", "EUR 12,50".
_SHOWN_AMOUNT = (
    rf"(?<![A-Za-z])(?:(?:{_SHOWN_SYMBOLS})\s?({_NUMBER.pattern})"
    rf"|({_NUMBER.pattern})\s?(?:{_SHOWN_SYMBOLS}))(?![A-Za-z])"
)


@cache
def _shown_amount() -> re.Pattern[str]:
    return re.compile(_SHOWN_AMOUNT)  # on first use: importers that never extract skip it


_REGULAR_LABEL = re.compile(
    r"(?i)(\bwas\b|\brrp\b|\buvp\b|\bstatt\b|list price|regular|original|before|\bantes\b"
    r"|prix barr|zamiast|\bpvp\b|msrp|suggested|原價|原价|定價|定价|市價|市价|建議售價|建议售价"
    r"|정가|通常価格|参考価格)(?:\s+(?:retail\s+)?price)?[\s:：]*\S{0,3}\s*$"  # noqa: RUF001
)


def shown_amounts(text: str, *, domain: str = "", limit: int = 40) -> list[tuple[Decimal, str]]:
    """Amounts written with a currency in ``text``, in reading order: (value, ISO code)."""
    out: list[tuple[Decimal, str]] = []
    for m in _shown_amount().finditer(text):
        if _REGULAR_LABEL.search(text[max(0, m.start() - 16) : m.start()]):
            continue  # "Was £40", "原價 3200": the regular price, not the selling one
        currency = detect_currency(m.group(0), domain=domain)
        value = parse_price(m.group(0), currency=currency)
        if currency and value is not None and value > 0:
            out.append((value, currency))
            if len(out) >= limit:
                break
    return out
