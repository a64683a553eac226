"""Product scraping library: SSRF-safe fetching and layered product extraction.

No database and no HTTP routes here; the scraping service calls::

    fetcher = SafeFetcher()                       # once per container
    fetcher.check_robots(url)                     # when robots.txt is respected (setting)
    page = fetcher.fetch(url, headers=rule_headers)
    product = extract_product(page.content, page.url, selectors=rule_selectors,
                              content_type=page.headers.get("content-type"))

Every failure is a ``ScrapeError`` whose ``message`` is safe to store as error_message.
"""

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
