"""Product scraping library: SSRF-safe fetching and layered product extraction.

No database and no HTTP routes here; the scraping service calls::

    fetcher = SafeFetcher()                       # once per container
    fetcher.check_robots(url)                     # when robots.txt is respected (setting)
    page = fetcher.fetch(url, headers=rule_headers)
    product = extract_product(page.content, page.url, selectors=rule_selectors,
                              content_type=page.headers.get("content-type"))

Every failure is a ``ScrapeError`` whose ``message`` is safe to store as error_message.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers and IDEs
    from ecomvideo.scraping.addresses import (
        PUBLIC_ONLY,
        AddressPolicy,
        PublicAddressPolicy,
        Resolver,
        is_public_address,
        system_resolver,
    )
    from ecomvideo.scraping.errors import (
        BlockedAddress,
        FetchError,
        FetchFailed,
        FetchTimeout,
        InvalidUrl,
        NotAProductPage,
        NotHtml,
        RobotsDisallowed,
        ScrapeError,
        TooLarge,
        TooManyRedirects,
    )
    from ecomvideo.scraping.extract import SELECTOR_FIELDS, extract_product
    from ecomvideo.scraping.models import Availability, ExtractedImage, ExtractedProduct, Platform
    from ecomvideo.scraping.safe_fetch import FetchConfig, FetchResult, SafeFetcher, safe_fetch

# Loaded on first use (PEP 562): ``from ecomvideo.scraping.errors import FetchError`` (outbound
# webhooks, the pipeline) must not import the extractor, httpx and the HTML parser.
_EXPORTS = {
    "AddressPolicy": "ecomvideo.scraping.addresses",
    "Availability": "ecomvideo.scraping.models",
    "BlockedAddress": "ecomvideo.scraping.errors",
    "ExtractedImage": "ecomvideo.scraping.models",
    "ExtractedProduct": "ecomvideo.scraping.models",
    "FetchConfig": "ecomvideo.scraping.safe_fetch",
    "FetchError": "ecomvideo.scraping.errors",
    "FetchFailed": "ecomvideo.scraping.errors",
    "FetchResult": "ecomvideo.scraping.safe_fetch",
    "FetchTimeout": "ecomvideo.scraping.errors",
    "InvalidUrl": "ecomvideo.scraping.errors",
    "NotAProductPage": "ecomvideo.scraping.errors",
    "NotHtml": "ecomvideo.scraping.errors",
    "PUBLIC_ONLY": "ecomvideo.scraping.addresses",
    "Platform": "ecomvideo.scraping.models",
    "PublicAddressPolicy": "ecomvideo.scraping.addresses",
    "Resolver": "ecomvideo.scraping.addresses",
    "RobotsDisallowed": "ecomvideo.scraping.errors",
    "SELECTOR_FIELDS": "ecomvideo.scraping.extract",
    "SafeFetcher": "ecomvideo.scraping.safe_fetch",
    "ScrapeError": "ecomvideo.scraping.errors",
    "TooLarge": "ecomvideo.scraping.errors",
    "TooManyRedirects": "ecomvideo.scraping.errors",
    "extract_product": "ecomvideo.scraping.extract",
    "is_public_address": "ecomvideo.scraping.addresses",
    "safe_fetch": "ecomvideo.scraping.safe_fetch",
    "system_resolver": "ecomvideo.scraping.addresses",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "PUBLIC_ONLY",
    "SELECTOR_FIELDS",
    "AddressPolicy",
    "Availability",
    "BlockedAddress",
    "ExtractedImage",
    "ExtractedProduct",
    "FetchConfig",
    "FetchError",
    "FetchFailed",
    "FetchResult",
    "FetchTimeout",
    "InvalidUrl",
    "NotAProductPage",
    "NotHtml",
    "Platform",
    "PublicAddressPolicy",
    "Resolver",
    "RobotsDisallowed",
    "SafeFetcher",
    "ScrapeError",
    "TooLarge",
    "TooManyRedirects",
    "extract_product",
    "is_public_address",
    "safe_fetch",
    "system_resolver",
]
