"""Exceptions raised by the scraping library.

Every exception carries ``message``: one sentence written for the seller who pasted the URL
(safe to store in ``product_data.error_message``), and ``code``: a stable slug for the service
layer and metrics. Messages never contain raw upstream error text.
"""

from __future__ import annotations


class ScrapeError(Exception):
    """Base class: something stopped us from producing product data for a URL."""

    code: str = "scrape-failed"
    default_message: str = "We could not read this product page."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class FetchError(ScrapeError):
    """Base class for failures while downloading a page."""

    code = "fetch-failed"
    default_message = "We could not download this page."


class InvalidUrl(FetchError):
    code = "invalid-url"
    default_message = "This is not a valid http(s) product URL."


class BlockedAddress(FetchError):
    """The URL (or a redirect) points at an address we refuse to contact (SSRF guard)."""

    code = "blocked-address"
    default_message = "This URL points to a private or reserved network address and cannot be used."


class TooLarge(FetchError):
    code = "too-large"
    default_message = "The page is too large to process."


class NotHtml(FetchError):
    code = "not-html"
    default_message = "The URL does not point to a web page (HTML) or a product JSON document."


class FetchTimeout(FetchError):
    code = "timeout"
    default_message = "The shop took too long to respond."


class TooManyRedirects(FetchError):
    code = "too-many-redirects"
    default_message = "The page redirected too many times."


class FetchFailed(FetchError):
    """Connection errors and non-success HTTP statuses. ``status_code`` is set for the latter."""

    code = "fetch-failed"

    def __init__(self, message: str | None = None, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RobotsDisallowed(FetchError):
    code = "robots-disallowed"
    default_message = "The shop's robots.txt does not allow automated access to this page."


class NotAProductPage(ScrapeError):
    """The page was downloaded but is not a single product (captcha, login, 404, listing...).

    ``reason`` is one of ``captcha``, ``login``, ``not-found``, ``listing``, ``no-product``.
    """

    code = "not-a-product-page"

    _MESSAGES = {
        "captcha": "The shop answered with a robot check (captcha) instead of the product page.",
        "login": "The page asks to sign in; we can only read publicly visible product pages.",
        "not-found": "The shop says this page does not exist (404). Check the URL.",
        "listing": (
            "This looks like a category or search page with several products. "
            "Paste the URL of a single product."
        ),
        "no-product": "We could not find a product (name and price or image) on this page.",
    }

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or self._MESSAGES.get(reason, self.default_message))
