"""The item code a shop shows for its product (the SKU a seller would quote).

Order of evidence (``choose_sku``): a platform's own id (Amazon ASIN), a structured ``sku``
that the page also displays, a code displayed after an item-code label ("Product code:",
"Item number", "Art.-Nr.", "Ref", "Код", "商品編號", ...), a structured sku/productID/mpn
that is not displayed, and last an id in the product URL (``.../p400105394``, ``?pid=260591``).
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser

# Labels that introduce the shop's own item code, in the languages shops write them. A label
# must be followed (after an optional ":", "#", "-" or "No.") by a token with a digit.
_LABELS = (
    r"product\s+(?:code|no\.?|number|id)|item\s+(?:code|no\.?|number|id|#)"
    r"|article\s+(?:number|no\.?|code)|art(?:\.|ikel)?\s*-?\s*nr\.?|artikelnummer|bestellnummer"
    r"|best\.\s*-?\s*nr\.?|sku|ref(?:erence)?\.?|r[ée]f(?:[ée]rence)?\.?"
    r"|cod(?:e|ice|igo|\.)?\s+(?:produs|prodotto|articolo|produit|produto|producto|article)"
    r"|c[óo]digo|numero\s+oggetto(?:\s+ebay)?|ebay\s+item\s+number|n[°º]\s*(?:d'article|article)"
    r"|ad\s*(?:#|id|number|no\.?)|post\s+id|listing\s+(?:id|number)|anzeige(?:nnummer)?"
    r"|код(?:\s+товара)?|артикул|šifra|kód(?:\s+(?:produktu|tovaru))?|katalógové\s+číslo"
    r"|kod\s+produktu|numer\s+produktu|catalogue\s+number|cat\.?\s+no\.?"
    r"|商品編號|商品编号|商品番号|品番|商品コード|상품번호|딜번호|קוד\s+מוצר|מק\"ט"  # noqa: RUF001
)
_LABELLED = (
    rf"(?i)(?<![\w-])(?:{_LABELS})\s*(?:[:#：\-–]|no\.?|nr\.?)?\s*"  # noqa: RUF001
    r"([A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*|\d+)"
)


@cache
def _labelled() -> re.Pattern[str]:
    # Compiled on first use: the multilingual alternation takes tens of ms to compile, which
    # importers of the package that never extract (webhooks, the pipeline) should not pay.
    return re.compile(_LABELLED)


_URL_ID_PARAMS = frozenset(
    {"pid", "productid", "product_id", "itemid", "item_id", "item", "sku", "skuid", "goodsno"}
)
_URL_CODE = re.compile(r"^[A-Z]{1,3}\d{5,}$")
_URL_TRAILING_DIGITS = re.compile(r"(?:^|[^\d])(\d{5,})$")
_PAGE_EXTENSIONS = re.compile(r"(?i)\.(?:html?|php|aspx?|jsp)$")


def visible_text(tree: LexborHTMLParser) -> str:
    """The body text a visitor reads (scripts, styles and templates removed), one line.

    Mutates ``tree`` (strips those tags): call it after every other reader of the tree."""
    tree.strip_tags(["script", "style", "noscript", "template"])
    body = tree.body
    if body is None:
        return ""
    return " ".join(body.text(deep=True, separator=" ").split())


def labelled_code(text: str) -> str | None:
    """The first code shown after an item-code label ("Product code: 46286401")."""
    for m in _labelled().finditer(text):
        code = m.group(1).rstrip("._-/")
        if len(code) >= 3:
            return code
    return None


def url_item_id(url: str | None) -> str | None:
    """An item id carried by a product URL: an id query parameter (``?pid=260591``), a
    code segment (``/M14876706.htm``) or a trailing number of 5+ digits (``-p400105394``)."""
    if not url:
        return None
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key.lower() in _URL_ID_PARAMS and re.fullmatch(r"[A-Za-z0-9\-]*\d[A-Za-z0-9\-]*", value):
            return value
    segments = [s for s in parts.path.split("/") if s]
    for segment in reversed(segments[-2:]):
        segment = _PAGE_EXTENSIONS.sub("", segment)
        if _URL_CODE.match(segment):
            return segment
        if m := _URL_TRAILING_DIGITS.search(segment):
            return m.group(1)
    return None


def choose_sku(
    *,
    platform_sku: str | None,
    structured: list[str],
    text: str,
    urls: list[str | None],
) -> str | None:
    """The item code by the order of evidence in the module docstring. ``structured`` holds
    the structured candidates in priority order (sku first, then productID, mpn)."""
    if platform_sku:
        return platform_sku
    shown = [c for c in structured if c and len(c) >= 3 and c in text]
    if shown:
        return shown[0]
    label = labelled_code(text)
    if label:
        return label
    for candidate in structured:
        if candidate:
            return candidate
    for url in urls:
        if found := url_item_id(url):
            return found
    return None
