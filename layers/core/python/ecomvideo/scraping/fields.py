"""The partial product each extraction layer produces, and availability normalisation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ecomvideo.scraping.images import ImageCandidate
from ecomvideo.scraping.models import Availability


@dataclass
class Fields:
    """What one layer (JSON-LD, microdata, a platform...) found. ``None`` means "not found"."""

    source: str
    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    original_price: Decimal | None = None
    brand: str | None = None
    sku: str | None = None
    product_id: str | None = None
    availability: Availability | None = None
    rating: Decimal | None = None
    review_count: int | None = None
    images: list[ImageCandidate] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    specifications: dict[str, str] = field(default_factory=dict)
    shipping: dict[str, Any] = field(default_factory=dict)

    def has_product(self) -> bool:
        return bool(self.name) and (self.price is not None or bool(self.images))


_AVAILABILITY_WORDS: list[tuple[str, Availability]] = [
    # Negated forms first: "indisponible" contains "disponible", "нет в наличии" "в наличии".
    ("indisponible", Availability.OUT_OF_STOCK),
    ("nondisponib", Availability.OUT_OF_STOCK),
    ("nodisponible", Availability.OUT_OF_STOCK),
    ("nãodisponível", Availability.OUT_OF_STOCK),
    ("nichtlieferbar", Availability.OUT_OF_STOCK),
    ("nichtvorrätig", Availability.OUT_OF_STOCK),
    ("vergriffen", Availability.OUT_OF_STOCK),
    ("esaurito", Availability.OUT_OF_STOCK),
    ("uitverkocht", Availability.OUT_OF_STOCK),
    ("nietopvoorraad", Availability.OUT_OF_STOCK),
    ("slutsåld", Availability.OUT_OF_STOCK),
    ("udsolgt", Availability.OUT_OF_STOCK),
    ("utsolgt", Availability.OUT_OF_STOCK),
    ("niedostępn", Availability.OUT_OF_STOCK),
    ("wyprzedan", Availability.OUT_OF_STOCK),
    ("nedostupn", Availability.OUT_OF_STOCK),
    ("vyprodan", Availability.OUT_OF_STOCK),
    ("нетвналичии", Availability.OUT_OF_STOCK),
    ("нетнаскладе", Availability.OUT_OF_STOCK),
    ("品切れ", Availability.OUT_OF_STOCK),
    ("缺货", Availability.OUT_OF_STOCK),
    ("售完", Availability.OUT_OF_STOCK),
    ("品切", Availability.OUT_OF_STOCK),
    ("품절", Availability.OUT_OF_STOCK),
    ("outofstock", Availability.OUT_OF_STOCK),
    ("soldout", Availability.OUT_OF_STOCK),
    ("unavailable", Availability.OUT_OF_STOCK),
    ("currentlyunavailable", Availability.OUT_OF_STOCK),
    ("notavailable", Availability.OUT_OF_STOCK),
    ("ausverkauft", Availability.OUT_OF_STOCK),
    ("nichtverfügbar", Availability.OUT_OF_STOCK),
    ("épuisé", Availability.OUT_OF_STOCK),
    ("agotado", Availability.OUT_OF_STOCK),
    ("在庫切れ", Availability.OUT_OF_STOCK),
    ("discontinued", Availability.DISCONTINUED),
    ("preorder", Availability.PRE_ORDER),
    ("presale", Availability.PRE_ORDER),
    ("backorder", Availability.BACK_ORDER),
    ("availablefororder", Availability.BACK_ORDER),
    ("limitedavailability", Availability.LIMITED_AVAILABILITY),
    ("onlyafewleft", Availability.LIMITED_AVAILABILITY),
    ("lowstock", Availability.LIMITED_AVAILABILITY),
    ("instock", Availability.IN_STOCK),
    ("onlineonly", Availability.IN_STOCK),
    ("instoreonly", Availability.IN_STOCK),
    ("available", Availability.IN_STOCK),
    ("auflager", Availability.IN_STOCK),
    ("lieferbar", Availability.IN_STOCK),
    ("enstock", Availability.IN_STOCK),
    ("disponible", Availability.IN_STOCK),
    ("disponibil", Availability.IN_STOCK),
    ("verfügbar", Availability.IN_STOCK),
    ("opvoorraad", Availability.IN_STOCK),
    ("naskladě", Availability.IN_STOCK),
    ("nastanie", Availability.IN_STOCK),
    ("вналичии", Availability.IN_STOCK),
    ("有現貨", Availability.IN_STOCK),
    ("在庫あり", Availability.IN_STOCK),
]


def normalise_availability(value: object) -> Availability | None:
    """Map schema.org URLs, OpenGraph words, platform flags and shop text to ``Availability``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Availability.IN_STOCK if value else Availability.OUT_OF_STOCK
    text = str(value).strip().lower()
    if not text:
        return None
    text = text.rsplit("/", 1)[-1]  # https://schema.org/InStock
    squashed = re.sub(r"[\s_\-.:!]+", "", text)
    m = re.match(r"only(\d+)left", squashed)
    if m:
        return Availability.LIMITED_AVAILABILITY
    for word, availability in _AVAILABILITY_WORDS:
        if word in squashed:
            return availability
    return None


# "Visit the X Store", "Brand: X", "Marque : X", "Besuchen Sie den X-Store", "Visita lo Store di X".
_BRAND_PREFIX = re.compile(
    r"(?i)^(?:visit the|besuchen sie den|besuche den|visita lo store di|visita la tienda de"
    r"|visiter la boutique|bezoek de|brand|marque|marke|marca|marchio|merk|märke|marka"
    r"|značka|výrobce|proizvajalec|producent|fabricante|manufacturer|by)\s*[:：]?\s+"  # noqa: RUF001
)
_BRAND_SUFFIX = re.compile(r"(?i)[\s-]*(?:store|shop|-?store besuchen)?[\s-]*$")
_PLACEHOLDER = re.compile(r"^(?:\$\w+|\$\{.*\}|\{\{.*\}\}|%\w+%|\[\w+\]|<%.*%>)$")


def clean_brand(value: str | None) -> str | None:
    """A brand without its "Visit the ... Store" / "Brand:" wrapping (localised); template
    placeholders (``$metabrand``, ``{{ brand }}``) and page titles ("X | Shop") are no brand."""
    if not value:
        return None
    text = " ".join(value.split())
    if _PLACEHOLDER.match(text) or " | " in text or len(text) > 80:
        return None
    stripped = _BRAND_PREFIX.sub("", text)
    if stripped != text:
        stripped = _BRAND_SUFFIX.sub("", stripped)
    return stripped.strip(" -:") or None
