"""Image candidates: absolute URLs, lazy-loading attributes, srcset, dedupe, largest variant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborNode

from ecomvideo.scraping.models import ExtractedImage

MAX_IMAGES = 20
MAX_URL_LENGTH = 500  # product_images.url / product_data.main_image_url column size
_ORIGINAL = 100_000  # score of a variant without a size token: the uploaded original

_SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "srcset")
_SRC_ATTRS = (
    "data-zoom-image",
    "data-large_image",
    "data-old-hires",
    "data-full",
    "data-zoom",
    "data-src",
    "data-lazy-src",
    "data-lazy",
    "data-original",
    "src",
)
_JUNK = re.compile(
    r"(?i)(?:^data:|blank\.gif|spacer|pixel\.gif|1x1|placeholder|loading\.gif|lazy\.(?:gif|png)"
    r"|transparent\.(?:gif|png)|sprite)"
)
_SIZE_PARAMS = frozenset(
    {
        "width",
        "height",
        "w",
        "h",
        "sw",
        "sh",
        "size",
        "resize",
        "fit",
        "crop",
        "quality",
        "q",
        "format",
        "fm",
        "auto",
        "dpr",
        "v",
        "imwidth",
        "odnwidth",
        "odnheight",
    }
)
_SHOPIFY_TOKEN = re.compile(
    r"_(?P<tok>\d+x\d*|x\d+|pico|icon|thumb|small|compact|medium|large|grande|original|master)"
    r"(?:_crop_[a-z]+)?(?:@\dx)?(?=\.[A-Za-z0-9]+$)"
)
_SHOPIFY_NAMED = {
    "pico": 16,
    "icon": 32,
    "thumb": 50,
    "small": 100,
    "compact": 160,
    "medium": 240,
    "large": 480,
    "grande": 600,
    "original": _ORIGINAL,
    "master": _ORIGINAL,
}
_AMAZON_TOKEN = re.compile(r"\._[A-Za-z0-9,_\-]+_(?=\.[A-Za-z]+$)")
_WP_TOKEN = re.compile(r"-(\d+)x(\d+)(?=\.[A-Za-z]+$)")
_ETSY_TOKEN = re.compile(r"/il_(?:(\d+)x\w+|fullxfull)\.")  # group 1: the width
_STENCIL_TOKEN = re.compile(r"/stencil/(\d+x\d+|original)/")
_MAGENTO_CACHE = re.compile(r"/cache/[0-9a-f]{32}/")


@dataclass
class ImageCandidate:
    url: str
    alt: str | None = None
    width: int | None = None
    height: int | None = None
    # Other URLs of the same picture (the rest of a srcset), so a later plain <img> pointing
    # at one of them is recognised as a duplicate.
    aliases: tuple[str, ...] = ()


def absolute_url(value: str | None, base: str) -> str | None:
    """``value`` resolved against ``base``; None for non-http(s) or junk values."""
    if not value:
        return None
    value = value.strip().replace(" ", "%20")
    if not value or value.startswith(("data:", "javascript:", "blob:", "#")):
        return None
    url = urljoin(base, value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def parse_srcset(value: str) -> list[tuple[str, int | None, float]]:
    """``srcset`` entries as (url, width from a "w" descriptor, density from an "x" one)."""
    out: list[tuple[str, int | None, float]] = []
    # Split on commas followed by whitespace: URLs may contain commas (Amazon, Cloudinary).
    for entry in re.split(r",\s+", value.strip()):
        bits = entry.strip().split()
        if not bits:
            continue
        url, width, density = bits[0].rstrip(","), None, 1.0
        if len(bits) > 1:
            desc = bits[1].lower()
            try:
                if desc.endswith("w"):
                    width = int(float(desc[:-1]))
                elif desc.endswith("x"):
                    density = float(desc[:-1])
            except ValueError:
                pass
        out.append((url, width, density))
    return out


def _int(value: object) -> int | None:
    try:
        n = int(str(value).strip().removesuffix("px"))
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _picture_sources(node: LexborNode) -> list[tuple[str, int | None, float]]:
    """srcset entries of the ``<source>`` siblings when ``node`` is a ``<picture>``'s img."""
    parent = node.parent
    if node.tag != "img" or parent is None or parent.tag != "picture":
        return []
    entries: list[tuple[str, int | None, float]] = []
    for source in parent.css("source"):
        for name in _SRCSET_ATTRS:
            value = source.attributes.get(name)
            if value:
                entries.extend(e for e in parse_srcset(value) if not _JUNK.search(e[0]))
                break
    return entries


def candidate_from_img(node: LexborNode, base: str) -> ImageCandidate | None:
    """The best URL an ``<img>``/``<source>`` offers, lazy-loading attributes included."""
    attrs = node.attributes
    best: tuple[str, int | None] | None = None
    aliases: list[str] = []
    for name in _SRCSET_ATTRS:
        value = attrs.get(name)
        if value:
            entries = parse_srcset(value)
            if entries:
                src, src_width, _density = max(entries, key=lambda e: (e[1] or 0, e[2]))
                best = (src, src_width)
                aliases = [e[0] for e in entries if e[0] != src]
                break
    if best is None:
        for name in _SRC_ATTRS:
            value = attrs.get(name)
            if value and not _JUNK.search(value):
                best = (value, None)
                break
    sources = _picture_sources(node)
    if sources:
        # <picture><source srcset="a.webp 1x, a@2x.webp 2x"><img src="a.jpg"></picture>: the
        # sources usually hold the larger variants; the <img> is the fallback.
        own = (best[1] or _int(attrs.get("width")) or 0, 1.0) if best else (0, 0.0)
        url_s, width_s, density_s = max(sources, key=lambda e: (e[1] or 0, e[2]))
        if best is None or (width_s or 0, density_s) > own:
            if best is not None:
                aliases.append(best[0])
            aliases.extend(e[0] for e in sources if e[0] != url_s)
            best = (url_s, width_s)
    if best is None or _JUNK.search(best[0]):
        return None
    url = absolute_url(best[0], base)
    if url is None:
        return None
    width = best[1]
    height = None
    if width is None:
        width = _int(attrs.get("data-large_image_width")) or _int(attrs.get("width"))
        height = _int(attrs.get("data-large_image_height")) or _int(attrs.get("height"))
    if (width is not None and width <= 2) or (height is not None and height <= 2):
        return None  # tracking pixels
    alt = attrs.get("alt") or attrs.get("title")
    for name in _SRC_ATTRS:
        if attrs.get(name) and not _JUNK.search(attrs.get(name) or ""):
            aliases.append(attrs.get(name) or "")
    resolved = tuple(a for a in (absolute_url(x, base) for x in aliases) if a and a != url)
    return ImageCandidate(
        url, alt.strip() if alt and alt.strip() else None, width, height, resolved
    )


def image_key(url: str) -> str:
    """Identity of an image regardless of the size variant the URL asks for."""
    parts = urlsplit(url)
    path = parts.path
    path = _SHOPIFY_TOKEN.sub("", path)
    path = _AMAZON_TOKEN.sub("", path)
    path = _WP_TOKEN.sub("", path)
    path = _ETSY_TOKEN.sub("/il_*.", path)
    path = _STENCIL_TOKEN.sub("/stencil/*/", path)
    path = _MAGENTO_CACHE.sub("/", path)
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SIZE_PARAMS)
    )
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{path}?{query}"


def size_score(url: str, width: int | None = None) -> int:
    """How large the variant ``url`` is likely to be; the uploaded original scores highest."""
    if width:
        return width
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key.lower() in {"width", "w", "sw", "imwidth", "odnwidth"} and value.isdigit():
            return int(value)
    path = parts.path
    if m := _SHOPIFY_TOKEN.search(path):
        tok = m.group("tok")
        if tok in _SHOPIFY_NAMED:
            return _SHOPIFY_NAMED[tok]
        nums = [int(n) for n in re.findall(r"\d+", tok)]
        return max(nums) if nums else 0
    if m := _AMAZON_TOKEN.search(path):
        nums = [int(n) for n in re.findall(r"(?:S[XYLSR]|U[LSXY]|AC_S[XYL]|SR)(\d+)", m.group(0))]
        return max(nums) if nums else 1
    if m := _WP_TOKEN.search(path):
        return int(m.group(1))
    if m := _ETSY_TOKEN.search(path):
        size = m.group(1)  # None for fullxfull
        return _ORIGINAL if size is None else int(size)
    if m := _STENCIL_TOKEN.search(path):
        tok = m.group(1)
        return _ORIGINAL if tok == "original" else int(tok.split("x")[0])
    if _MAGENTO_CACHE.search(path):
        return 1
    return _ORIGINAL


def merge_images(candidates: list[ImageCandidate]) -> list[ExtractedImage]:
    """Deduplicate candidates (first appearance fixes the order), keep the largest variant of
    each image, and number them; the first is primary."""
    order: list[str] = []
    best: dict[str, ImageCandidate] = {}
    alts: dict[str, str] = {}
    alias_of: dict[str, str] = {}
    for cand in candidates:
        if len(cand.url) > MAX_URL_LENGTH:
            continue
        direct = image_key(cand.url)
        key = alias_of.get(direct, direct)
        for alias in cand.aliases:
            alias_of.setdefault(image_key(alias), key)
        if cand.alt and key not in alts:
            alts[key] = cand.alt
        current = best.get(key)
        if current is None:
            order.append(key)
            best[key] = ImageCandidate(cand.url, None, cand.width, cand.height)
            continue
        if cand.url == current.url:
            current.width = current.width or cand.width
            current.height = current.height or cand.height
        elif key != direct:
            # Known only as another srcset entry: replace on explicit evidence of size alone.
            if cand.width and current.width and cand.width > current.width:
                best[key] = ImageCandidate(cand.url, None, cand.width, cand.height)
        elif size_score(cand.url, cand.width) > size_score(current.url, current.width):
            best[key] = ImageCandidate(cand.url, None, cand.width, cand.height)
    images: list[ExtractedImage] = []
    for index, key in enumerate(order[:MAX_IMAGES]):
        cand = best[key]
        images.append(
            ExtractedImage(
                url=cand.url,
                alt_text=(alts.get(key) or "")[:500] or None,
                width=cand.width,
                height=cand.height,
                is_primary=index == 0,
                sort_order=index,
            )
        )
    return images
