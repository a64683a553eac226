"""SSRF-safe page download for the scraper.

Guarantees, for the first request and for every redirect hop:

* only ``http``/``https`` on allowed ports (80/443 by default), no credentials in URLs;
* the host is resolved exactly once and every resolved address must pass the address policy
  (public unicast only in production); we then connect to that checked IP ourselves, sending the
  original ``Host`` header and, for https, the hostname as SNI (the certificate is still verified
  against the hostname), so a second DNS answer cannot redirect the connection (DNS rebinding);
* redirects are followed by hand (max 5) and each target is checked like the first URL;
* the body is streamed and limited (raw and *decoded* bytes, so a gzip bomb stops early);
* connect/read timeouts plus a total deadline; only HTML or JSON content types are read;
* environment proxies are ignored (a proxy would resolve names itself, bypassing the check).

Create one ``SafeFetcher`` per container and pass it in; ``safe_fetch`` is a convenience.
"""

from __future__ import annotations

import ipaddress
import re
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ecomvideo.scraping.addresses import (
    PUBLIC_ONLY,
    AddressPolicy,
    IPAddress,
    Resolver,
    resolve_checked,
    system_resolver,
)
from ecomvideo.scraping.errors import (
    BlockedAddress,
    FetchFailed,
    FetchTimeout,
    InvalidUrl,
    NotHtml,
    RobotsDisallowed,
    ScrapeError,
    TooLarge,
    TooManyRedirects,
)

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
# The product token our robots.txt check matches against (a browser UA has no useful token).
ROBOTS_USER_AGENT = "EcomVideoBot"

_DEFAULT_HEADERS = {
    "Accept": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7"
    ),
    "Accept-Language": "en-US,en;q=0.9",
    # Only encodings we decode ourselves with a size guard.
    "Accept-Encoding": "gzip, deflate, br",
    "Cache-Control": "no-cache",
    "Pragma": "no-cache",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-User": "?1",
}
# Callers may not override these: they carry the SSRF guarantees or the body-size guard.
_PROTECTED_HEADERS = {"host", "accept-encoding", "content-length", "transfer-encoding", "cookie"}

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
JSON_TYPES = frozenset({"application/json", "text/json", "application/ld+json"})
_JS_TYPES = frozenset({"application/javascript", "text/javascript", "application/x-javascript"})
_SHOPIFY_JS_PATH = re.compile(r"/products/[^/]+\.js$")
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchConfig:
    """Limits for one fetch. Defaults are the production values."""

    allowed_ports: frozenset[int] = frozenset({80, 443})
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    robots_user_agent: str = ROBOTS_USER_AGENT
    robots_cache_seconds: float = 3600.0
    robots_max_bytes: int = 512 * 1024


@dataclass(frozen=True)
class FetchResult:
    """A downloaded document. ``content`` is the decoded (decompressed) body."""

    url: str
    status_code: int
    content: bytes
    content_type: str
    charset: str | None
    headers: Mapping[str, str]
    redirects: tuple[str, ...] = ()
    elapsed_ms: int = 0
    ip: str = ""

    @property
    def is_json(self) -> bool:
        return self.content_type in JSON_TYPES or self.content_type in _JS_TYPES


@dataclass
class _Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) hostname, lowercased, without brackets
    port: int
    ip: IPAddress
    connect_url: str
    host_header: str


@dataclass
class _RobotsEntry:
    parser: Any  # a protego.Protego; None means "everything allowed"
    disallow_all: bool
    expires: float


@dataclass
class _Cookies:
    by_host: dict[str, dict[str, str]] = field(default_factory=dict)

    def absorb(self, host: str, set_cookie_values: Iterable[str]) -> None:
        # Imported here: http.cookies compiles a large verbose regex at import (cold start).
        from http.cookies import CookieError, SimpleCookie

        jar = self.by_host.setdefault(host, {})
        for raw in set_cookie_values:
            try:
                parsed = SimpleCookie()
                parsed.load(raw)
            except CookieError:
                continue
            for name, morsel in parsed.items():
                jar[name] = morsel.value

    def header(self, host: str) -> str | None:
        jar = self.by_host.get(host)
        return "; ".join(f"{k}={v}" for k, v in jar.items()) if jar else None


class _BoundedDecoder:
    """Decodes a Content-Encoding incrementally, never producing more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.produced = 0
        self.encoding = encoding
        self._first = True
        self._br: Any = None
        if encoding in ("", "identity"):
            self._d = None
        elif encoding == "br":
            import brotli  # only pages sent as Brotli pay for the import

            self._d = None
            self._br = brotli.Decompressor()
        elif encoding in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._d = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise FetchFailed("The shop sent the page in an encoding we cannot read.")

    def _count(self, n: int) -> None:
        self.produced += n
        if self.produced > self.limit:
            raise TooLarge(
                f"The page is larger than {self.limit // (1024 * 1024) or 1} MB once "
                "decompressed; we stopped reading it."
            )

    def _feed_brotli(self, data: bytes) -> bytes:
        import brotli  # already imported by __init__

        out: list[bytes] = []
        try:
            while True:
                # Bounded output per call; with the limit reached, only empty input may follow.
                chunk = self._br.process(data, output_buffer_limit=self.limit - self.produced + 1)
                data = b""
                self._count(len(chunk))
                out.append(chunk)
                if self._br.can_accept_more_data() or self._br.is_finished():
                    return b"".join(out)
        except brotli.error as exc:
            raise FetchFailed("The shop sent a corrupt compressed page.") from exc

    def feed(self, data: bytes) -> bytes:
        if self._br is not None:
            return self._feed_brotli(data)
        if self._d is None:
            self._count(len(data))
            return data
        out: list[bytes] = []
        buf = data
        while buf and not self._d.eof:
            try:
                chunk = self._d.decompress(buf, self.limit - self.produced + 1)
            except zlib.error as exc:
                if self._first and self.encoding == "deflate":
                    # Some servers send raw deflate without the zlib header.
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise FetchFailed("The shop sent a corrupt compressed page.") from exc
            self._first = False
            self._count(len(chunk))
            out.append(chunk)
            buf = self._d.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        if self._d is None:
            return b""
        tail = self._d.flush()
        self._count(len(tail))
        return tail


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    parts = [p.strip() for p in header.split(";")]
    charset = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset" and value:
            charset = value.strip().strip("\"'").lower()
    return parts[0].lower(), charset


def _sniff(prefix: bytes) -> str:
    head = prefix[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<body")):
        return "text/html"
    if head.startswith((b"{", b"[")):
        return "application/json"
    return ""


class SafeFetcher:
    """Downloads product pages under the SSRF and size rules described in the module docstring.

    ``policy`` and ``resolver`` are injectable for tests; production uses the defaults
    (public addresses only, system DNS). ``transport`` lets tests plug in a mock transport.
    """

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        policy: AddressPolicy = PUBLIC_ONLY,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self.config = config or FetchConfig()
        self.policy = policy
        self.resolver = resolver
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(
                connect=self.config.connect_timeout,
                read=self.config.read_timeout,
                write=self.config.read_timeout,
                pool=self.config.connect_timeout,
            ),
        )
        self._robots: dict[str, _RobotsEntry] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SafeFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------------------

    def fetch(self, url: str, *, headers: Mapping[str, str] | None = None) -> FetchResult:
        """Download ``url`` (an HTML page or a product JSON document).

        ``headers`` are extra request headers (e.g. ``scraping_rules.headers``); they cannot
        override Host, Cookie or Accept-Encoding. Raises a ``FetchError`` subclass on failure.
        """
        return self._fetch(url, headers=headers, kinds=HTML_TYPES | JSON_TYPES)

    def fetch_media(
        self, url: str, *, kinds: frozenset[str], max_bytes: int | None = None
    ) -> FetchResult:
        """Download ``url`` accepting only the media types ``kinds`` (e.g. images), at most
        ``max_bytes`` (default: the configured limit). Raises a ``FetchError`` subclass."""
        return self._fetch(url, headers=None, kinds=kinds, max_bytes=max_bytes)

    def check_address(self, url: str) -> None:
        """Raise a ``FetchError`` (``InvalidUrl``, ``BlockedAddress``, ``FetchFailed`` for an
        unknown host) before any request when ``url`` is not an http(s) URL whose host resolves
        to addresses the policy allows."""
        self._resolve(self._parse_url(url))

    def robots_allowed(self, url: str) -> bool:
        """Whether the site's robots.txt allows our bot token to fetch ``url``.

        Follows RFC 9309: a missing robots.txt (4xx) allows everything; a server error or an
        unreachable robots.txt disallows everything. Cached per origin.
        """
        target = self._parse_url(url)
        origin = f"{target.scheme}://{target.host_header}"
        now = time.monotonic()
        entry = self._robots.get(origin)
        if entry is None or entry.expires < now:
            entry = self._load_robots(origin, now)
            self._robots[origin] = entry
        if entry.disallow_all:
            return False
        if entry.parser is None:
            return True
        return bool(entry.parser.can_fetch(url, self.config.robots_user_agent))

    def check_robots(self, url: str) -> None:
        """Raise ``RobotsDisallowed`` when robots.txt forbids fetching ``url``."""
        if not self.robots_allowed(url):
            raise RobotsDisallowed()

    # -- internals ----------------------------------------------------------------------------

    def _load_robots(self, origin: str, now: float) -> _RobotsEntry:
        expires = now + self.config.robots_cache_seconds
        try:
            result = self._fetch(
                origin + "/robots.txt",
                headers=None,
                kinds=None,
                max_bytes=self.config.robots_max_bytes,
                accept_errors=True,
            )
        except (TooLarge, BlockedAddress):
            # An oversized robots.txt: RFC 9309 says parse the first 500 KiB; we cannot cheaply,
            # so treat it as unavailable. A blocked redirect is likewise "unreachable".
            return _RobotsEntry(None, True, expires)
        except ScrapeError:
            return _RobotsEntry(None, True, expires)
        if 400 <= result.status_code < 500:
            return _RobotsEntry(None, False, expires)
        if result.status_code >= 500:
            return _RobotsEntry(None, True, expires)
        # Protego implements RFC 9309 (the stdlib parser ignores "*"/"$" and takes the first
        # matching rule instead of the longest). Imported only when robots.txt is checked.
        from protego import Protego

        parser = Protego.parse(result.content.decode("utf-8", "replace"))
        return _RobotsEntry(parser, False, expires)

    def _parse_url(self, url: str) -> _Target:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise InvalidUrl() from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise InvalidUrl("Only http:// and https:// URLs can be scraped.")
        if parts.username is not None or parts.password is not None:
            raise InvalidUrl("URLs with a user name or password are not accepted.")
        raw_host = parts.hostname or ""
        if not raw_host:
            raise InvalidUrl()
        try:
            host = raw_host if ":" in raw_host else raw_host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise InvalidUrl("The domain name in this URL is not valid.") from exc
        port = port or (443 if scheme == "https" else 80)
        if port not in self.config.allowed_ports:
            raise BlockedAddress(
                f"Port {port} is not allowed; only standard web ports can be used."
            )
        default_port = 443 if scheme == "https" else 80
        bracketed = f"[{host}]" if ":" in host else host
        host_header = bracketed if port == default_port else f"{bracketed}:{port}"
        path = parts.path or "/"
        return _Target(
            url=urlunsplit((scheme, host_header, path, parts.query, "")),
            scheme=scheme,
            host=host,
            port=port,
            ip=ipaddress.ip_address("0.0.0.0"),  # noqa: S104 - placeholder until _resolve
            connect_url="",
            host_header=host_header,
        )

    def _resolve(self, target: _Target) -> _Target:
        ip = resolve_checked(target.host, target.port, policy=self.policy, resolver=self.resolver)
        ip_text = f"[{ip}]" if ip.version == 6 else str(ip)
        parts = urlsplit(target.url)
        target.ip = ip
        target.connect_url = urlunsplit(
            (target.scheme, f"{ip_text}:{target.port}", parts.path, parts.query, "")
        )
        return target

    def _headers(
        self, target: _Target, extra: Mapping[str, str] | None, cookie: str | None
    ) -> dict[str, str]:
        headers = {"User-Agent": self.config.user_agent, **_DEFAULT_HEADERS}
        for key, value in (extra or {}).items():
            if key.lower() not in _PROTECTED_HEADERS:
                headers[key] = value
        headers["Host"] = target.host_header
        if cookie:
            headers["Cookie"] = cookie
        return headers

    def _fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        kinds: frozenset[str] | None,
        max_bytes: int | None = None,
        accept_errors: bool = False,
    ) -> FetchResult:
        limit = max_bytes or self.config.max_bytes
        started = time.monotonic()
        deadline = started + self.config.total_timeout
        cookies = _Cookies()
        redirects: list[str] = []
        current = url
        for _hop in range(self.config.max_redirects + 1):
            target = self._resolve(self._parse_url(current))
            request = self._client.build_request(
                "GET",
                target.connect_url,
                headers=self._headers(target, headers, cookies.header(target.host)),
                extensions={
                    "sni_hostname": target.host,
                    "timeout": self._timeouts(deadline),
                },
            )
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchTimeout() from exc
            except httpx.HTTPError as exc:
                raise FetchFailed("We could not connect to the shop's website.") from exc
            try:
                cookies.absorb(target.host, response.headers.get_list("set-cookie"))
                self._client.cookies.clear()  # our jar is per fetch; never share across users
                if response.status_code in _REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchFailed("The shop sent a redirect without a destination.")
                    current = urljoin(target.url, location.strip())
                    redirects.append(current)
                    continue
                if not (200 <= response.status_code < 300) and not accept_errors:
                    raise _status_error(response.status_code)
                body, media, charset = self._read_body(response, kinds, limit, deadline, target)
            finally:
                response.close()
            return FetchResult(
                url=target.url,
                status_code=response.status_code,
                content=body,
                content_type=media,
                charset=charset,
                headers={k.lower(): v for k, v in response.headers.items()},
                redirects=tuple(redirects),
                elapsed_ms=int((time.monotonic() - started) * 1000),
                ip=str(target.ip),
            )
        raise TooManyRedirects(f"The page redirected more than {self.config.max_redirects} times.")

    def _timeouts(self, deadline: float) -> dict[str, float]:
        left = max(0.001, deadline - time.monotonic())
        return {
            "connect": min(self.config.connect_timeout, left),
            "read": min(self.config.read_timeout, left),
            "write": min(self.config.read_timeout, left),
            "pool": min(self.config.connect_timeout, left),
        }

    def _read_body(
        self,
        response: httpx.Response,
        kinds: frozenset[str] | None,
        limit: int,
        deadline: float,
        target: _Target,
    ) -> tuple[bytes, str, str | None]:
        media, charset = _media_type(response.headers.get("content-type"))
        if kinds is not None and media and media not in kinds:
            shopify_js = media in _JS_TYPES and _SHOPIFY_JS_PATH.search(urlsplit(target.url).path)
            if not shopify_js:
                raise NotHtml(
                    f"The URL returned '{media}' content, not a web page. "
                    "Paste the URL of the product page."
                )
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"The page is larger than {max(1, limit // (1024 * 1024))} MB.")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        decoder = _BoundedDecoder(encoding, limit)
        raw_total = 0
        chunks: list[bytes] = []
        try:
            for raw in response.iter_raw(chunk_size=64 * 1024):
                raw_total += len(raw)
                if raw_total > limit:
                    raise TooLarge(f"The page is larger than {max(1, limit // (1024 * 1024))} MB.")
                chunks.append(decoder.feed(raw))
                if time.monotonic() > deadline:
                    raise FetchTimeout()
            chunks.append(decoder.flush())
        except httpx.TimeoutException as exc:
            raise FetchTimeout() from exc
        except httpx.HTTPError as exc:
            raise FetchFailed("The connection to the shop broke while reading the page.") from exc
        body = b"".join(chunks)
        if kinds is not None and not media:
            media = _sniff(body)
            if media not in kinds:
                raise NotHtml()
        return body, media, charset


def _status_error(status: int) -> FetchFailed:
    if status == 404 or status == 410:
        msg = f"The shop says this page does not exist (HTTP {status}). Check the URL."
    elif status in (401, 403, 429):
        msg = (
            f"The shop refused our request (HTTP {status}); it may block automated access. "
            "Try again later or enter the product details by hand."
        )
    elif status >= 500:
        msg = f"The shop's website had an error (HTTP {status}). Try again later."
    else:
        msg = f"The shop answered with an unexpected status (HTTP {status})."
    return FetchFailed(msg, status_code=status)


def safe_fetch(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    config: FetchConfig | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
    resolver: Resolver = system_resolver,
) -> FetchResult:
    """One-shot ``SafeFetcher(...).fetch(url)``; prefer a long-lived ``SafeFetcher``."""
    with SafeFetcher(config, policy=policy, resolver=resolver) as fetcher:
        return fetcher.fetch(url, headers=headers)
