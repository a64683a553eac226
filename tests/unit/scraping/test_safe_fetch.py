"""SSRF guard and download limits of ``SafeFetcher``.

No test touches the internet: names resolve through injected resolvers, "public" servers are
respx mocks, and real sockets only go to local servers on 127.0.0.x. A canary server records
every request it receives; with the production (strict) policy it must receive none.
"""

from __future__ import annotations

import gzip
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli
import httpx
import pytest
import respx

from ecomvideo.scraping import (
    BlockedAddress,
    FetchConfig,
    FetchFailed,
    FetchTimeout,
    InvalidUrl,
    NotHtml,
    SafeFetcher,
    TooLarge,
    TooManyRedirects,
    is_public_address,
)

PUBLIC_IP = "93.184.216.34"

Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A tiny HTTP server on a loopback address that counts requests and serves routes."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[tuple[str, str | None]] = []  # (path, Host header)
        self.routes: dict[str, Route] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append((self.path, self.headers.get("Host")))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<html><body>canary</body></html>")
                else:
                    route(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackOnlyPolicy:
    """Test-only policy: additionally allows 127.0.0.1 (and nothing else that is private)."""

    def is_allowed(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return str(ip) == "127.0.0.1" or is_public_address(ip)


def _no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"unexpected DNS lookup for {host}")


def _respond(status: int, headers: dict[str, str], body: bytes = b"") -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if body:
            handler.wfile.write(body)

    return route


@pytest.fixture
def canary() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture
def local() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


# -- address classification ---------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.16.5.4",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "0.0.0.0",
        "0.1.2.3",
        "198.18.0.1",
        "198.19.255.1",
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.9",
        "192.0.0.8",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::1",
        "2002:a00:1::1",
        "2001:db8::1",
        "fec0::1",
        "::127.0.0.1",
        "100::1",
    ],
)
def test_private_and_reserved_addresses_are_refused(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is True


# -- strict (production) policy never reaches a local server --------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7f000001",
        "127.1",
        "017700000001",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "[0:0:0:0:0:0:0:1]",
        "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # full-width digits
    ],
)
def test_loopback_in_any_spelling_is_blocked_and_never_contacted(
    canary: LocalServer, host: str
) -> None:
    fetcher = SafeFetcher(
        FetchConfig(allowed_ports=frozenset({80, 443, canary.port})), resolver=_no_dns
    )

    with pytest.raises(BlockedAddress) as caught:
        fetcher.fetch(f"http://{host}:{canary.port}/products/x")

    assert "private or reserved" in caught.value.message
    assert canary.hits == []


@pytest.mark.parametrize(
    "resolved",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["192.168.0.10"],
        ["169.254.169.254"],
        ["100.64.1.1"],
        ["::1"],
        ["fd00::1"],
        ["fe80::1%eth0"],
        ["::ffff:127.0.0.1"],
        [PUBLIC_IP, "127.0.0.1"],
    ],
)
def test_hostname_resolving_to_a_private_address_is_blocked(
    canary: LocalServer, resolved: list[str]
) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return resolved

    fetcher = SafeFetcher(
        FetchConfig(allowed_ports=frozenset({80, canary.port})), resolver=resolver
    )

    with pytest.raises(BlockedAddress):
        fetcher.fetch(f"http://shop.example:{canary.port}/p")

    assert lookups == ["shop.example"]
    assert canary.hits == []


@pytest.mark.respx(assert_all_called=False)
@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/admin",
        "http://[::1]/",
        "http://2130706433/",
        "http://internal.example/",
        "https://0x7f.1/",
        "http://[::ffff:a9fe:a9fe]/",
    ],
)
def test_redirect_to_a_blocked_address_is_refused(
    respx_mock: respx.MockRouter, location: str
) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {"shop.example": [PUBLIC_IP], "internal.example": ["10.1.2.3"]}[host]

    first = respx_mock.get(f"http://{PUBLIC_IP}:80/p").mock(
        return_value=httpx.Response(302, headers={"Location": location})
    )
    anywhere_else = respx_mock.route().mock(return_value=httpx.Response(200, html="x"))

    with pytest.raises(BlockedAddress):
        SafeFetcher(resolver=resolver).fetch("http://shop.example/p")

    assert first.call_count == 1
    assert anywhere_else.call_count == 0


def test_redirect_from_an_allowed_local_server_to_another_loopback_is_not_followed(
    local: LocalServer,
) -> None:
    with LocalServer(host="127.0.0.2") as other:
        local.routes["/go"] = _respond(302, {"Location": other.url("/secret")})
        fetcher = SafeFetcher(
            FetchConfig(allowed_ports=frozenset({local.port, other.port})),
            policy=LoopbackOnlyPolicy(),
            resolver=_no_dns,
        )

        with pytest.raises(BlockedAddress):
            fetcher.fetch(local.url("/go"))

        assert [path for path, _ in local.hits] == ["/go"]
        assert other.hits == []


def test_connection_goes_to_the_checked_ip_with_original_host_and_sni(
    respx_mock: respx.MockRouter,
) -> None:
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return [PUBLIC_IP]

    route = respx_mock.get(f"https://{PUBLIC_IP}:443/products/mug").mock(
        return_value=httpx.Response(200, headers={"Content-Type": "text/html"}, text="<html/>")
    )

    result = SafeFetcher(resolver=resolver).fetch(
        "https://Shop.Example/products/mug", headers={"Host": "evil", "X-Extra": "1"}
    )

    request = route.calls.last.request
    assert request.headers["Host"] == "shop.example"
    assert request.headers["X-Extra"] == "1"
    assert request.extensions["sni_hostname"] == "shop.example"
    assert "Mozilla/5.0" in request.headers["User-Agent"]
    assert calls == ["shop.example"]
    assert result.url == "https://shop.example/products/mug"
    assert result.ip == PUBLIC_IP


def test_redirect_chain_longer_than_five_hops_is_refused(respx_mock: respx.MockRouter) -> None:
    for i in range(7):
        respx_mock.get(f"http://{PUBLIC_IP}:80/r{i}").mock(
            return_value=httpx.Response(301, headers={"Location": f"/r{i + 1}"})
        )

    with pytest.raises(TooManyRedirects):
        SafeFetcher(resolver=lambda h, p: [PUBLIC_IP]).fetch("http://shop.example/r0")


def test_allowed_redirect_is_followed_and_recorded(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"http://{PUBLIC_IP}:80/old").mock(
        return_value=httpx.Response(
            301,
            headers={"Location": "https://shop.example/new", "Set-Cookie": "session=abc; Path=/"},
        )
    )
    new = respx_mock.get(f"https://{PUBLIC_IP}:443/new").mock(
        return_value=httpx.Response(200, headers={"Content-Type": "text/html"}, text="<p>ok</p>")
    )

    result = SafeFetcher(resolver=lambda h, p: [PUBLIC_IP]).fetch("http://shop.example/old")

    assert result.content == b"<p>ok</p>"
    assert result.redirects == ("https://shop.example/new",)
    assert new.calls.last.request.headers["Cookie"] == "session=abc"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://shop.example/file", InvalidUrl),
        ("file:///etc/passwd", InvalidUrl),
        ("gopher://shop.example/", InvalidUrl),
        ("http://user:pw@shop.example/", InvalidUrl),
        ("http:///nohost", InvalidUrl),
        ("http://shop.example:8080/", BlockedAddress),
        ("http://shop.example:22/", BlockedAddress),
    ],
)
def test_unsupported_schemes_credentials_and_ports_are_refused(url: str, error: type) -> None:
    with pytest.raises(error):
        SafeFetcher(resolver=_no_dns).fetch(url)


# -- limits, with a local server reached through the explicit test policy ---------------------


def _fetcher(server: LocalServer, **config: Any) -> SafeFetcher:
    return SafeFetcher(
        FetchConfig(allowed_ports=frozenset({server.port}), **config),
        policy=LoopbackOnlyPolicy(),
        resolver=_no_dns,
    )


def test_html_page_is_downloaded(local: LocalServer) -> None:
    local.routes["/p"] = _respond(
        200, {"Content-Type": "text/html; charset=windows-1252"}, b"<html>caf\xe9</html>"
    )

    result = _fetcher(local).fetch(local.url("/p"))

    assert result.status_code == 200
    assert result.content == b"<html>caf\xe9</html>"
    assert result.content_type == "text/html"
    assert result.charset == "windows-1252"


def test_oversized_page_with_content_length_is_refused(local: LocalServer) -> None:
    local.routes["/big"] = _respond(
        200, {"Content-Type": "text/html", "Content-Length": str(300_000)}, b"a" * 300_000
    )

    with pytest.raises(TooLarge):
        _fetcher(local, max_bytes=100_000).fetch(local.url("/big"))


def test_oversized_page_without_content_length_stops_while_streaming(local: LocalServer) -> None:
    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b"x" * 10_000)

    local.routes["/stream"] = chunked

    with pytest.raises(TooLarge):
        _fetcher(local, max_bytes=100_000).fetch(local.url("/stream"))


def test_gzip_bomb_is_stopped_by_the_decoded_size_limit(local: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # small on the wire...
    local.routes["/bomb"] = _respond(
        200,
        {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))},
        bomb,
    )

    with pytest.raises(TooLarge) as caught:
        _fetcher(local, max_bytes=1_000_000).fetch(local.url("/bomb"))

    assert "decompressed" in caught.value.message


def test_gzip_page_within_limits_is_decoded(local: LocalServer) -> None:
    body = gzip.compress(b"<html>" + b"ok" * 1000 + b"</html>")
    local.routes["/gz"] = _respond(
        200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, body
    )

    result = _fetcher(local).fetch(local.url("/gz"))

    assert result.content == b"<html>" + b"ok" * 1000 + b"</html>"


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/zip"])
def test_non_html_content_is_refused(local: LocalServer, content_type: str) -> None:
    local.routes["/file"] = _respond(200, {"Content-Type": content_type}, b"\x89PNG....")

    with pytest.raises(NotHtml) as caught:
        _fetcher(local).fetch(local.url("/file"))

    assert content_type in caught.value.message


def test_shopify_product_json_is_accepted(local: LocalServer) -> None:
    local.routes["/products/mug.js"] = _respond(
        200, {"Content-Type": "application/javascript"}, b'{"title":"Mug","variants":[]}'
    )

    result = _fetcher(local).fetch(local.url("/products/mug.js"))

    assert result.is_json


def test_slow_server_times_out(local: LocalServer) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        _respond(200, {"Content-Type": "text/html"}, b"late")(handler)

    local.routes["/slow"] = slow

    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        _fetcher(local, read_timeout=0.3).fetch(local.url("/slow"))
    assert time.monotonic() - started < 1.4


def test_trickling_body_hits_the_total_deadline(local: LocalServer) -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(12):
            handler.wfile.write(b"<p>" * 10)
            handler.wfile.flush()
            time.sleep(0.1)

    local.routes["/trickle"] = trickle

    with pytest.raises(FetchTimeout):
        _fetcher(local, read_timeout=1.0, total_timeout=0.5).fetch(local.url("/trickle"))


def test_not_found_status_fails_with_status_code(local: LocalServer) -> None:
    local.routes["/gone"] = _respond(404, {"Content-Type": "text/html"}, b"nope")

    with pytest.raises(FetchFailed) as caught:
        _fetcher(local).fetch(local.url("/gone"))

    assert caught.value.status_code == 404
    assert "does not exist" in caught.value.message


def test_hostname_is_resolved_once_and_host_header_kept(local: LocalServer) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    fetcher = SafeFetcher(
        FetchConfig(allowed_ports=frozenset({local.port})),
        policy=LoopbackOnlyPolicy(),
        resolver=resolver,
    )
    fetcher.fetch(f"http://shop.test:{local.port}/p")

    assert lookups == ["shop.test"]
    assert local.hits == [("/p", f"shop.test:{local.port}")]


def test_robots_txt_is_respected_and_cached(local: LocalServer) -> None:
    local.routes["/robots.txt"] = _respond(
        200,
        {"Content-Type": "text/plain"},
        b"User-agent: EcomVideoBot\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n",
    )
    fetcher = _fetcher(local)

    assert fetcher.robots_allowed(local.url("/products/mug")) is True
    assert fetcher.robots_allowed(local.url("/private/thing")) is False
    assert [path for path, _ in local.hits] == ["/robots.txt"]


def test_missing_robots_txt_allows_everything(local: LocalServer) -> None:
    local.routes["/robots.txt"] = _respond(404, {"Content-Type": "text/html"}, b"no")

    assert _fetcher(local).robots_allowed(local.url("/anything")) is True


def test_robots_txt_server_error_disallows(local: LocalServer) -> None:
    local.routes["/robots.txt"] = _respond(503, {"Content-Type": "text/html"}, b"down")

    assert _fetcher(local).robots_allowed(local.url("/anything")) is False


def _robots(local: LocalServer, text: str) -> SafeFetcher:
    local.routes["/robots.txt"] = _respond(200, {"Content-Type": "text/plain"}, text.encode())
    return _fetcher(local)


def test_robots_wildcard_matches_any_characters_in_the_path(local: LocalServer) -> None:
    fetcher = _robots(local, "User-agent: *\nDisallow: /*?sessionid=\n")

    assert fetcher.robots_allowed(local.url("/products/mug?sessionid=abc")) is False
    assert fetcher.robots_allowed(local.url("/products/mug?color=red")) is True


def test_robots_dollar_anchors_the_end_of_the_path(local: LocalServer) -> None:
    fetcher = _robots(local, "User-agent: *\nDisallow: /*.pdf$\n")

    assert fetcher.robots_allowed(local.url("/manuals/mug.pdf")) is False
    assert fetcher.robots_allowed(local.url("/manuals/mug.pdf.html")) is True


def test_robots_longest_matching_rule_wins_not_the_first(local: LocalServer) -> None:
    fetcher = _robots(local, "User-agent: *\nDisallow: /shop\nAllow: /shop/products/\n")

    assert fetcher.robots_allowed(local.url("/shop/products/mug")) is True
    assert fetcher.robots_allowed(local.url("/shop/cart")) is False


def test_brotli_page_is_decoded(local: LocalServer) -> None:
    page = b"<html>" + b"ok" * 1000 + b"</html>"
    local.routes["/br"] = _respond(
        200, {"Content-Type": "text/html", "Content-Encoding": "br"}, brotli.compress(page)
    )

    result = _fetcher(local).fetch(local.url("/br"))

    assert result.content == page


def test_brotli_bomb_is_stopped_by_the_decoded_size_limit(local: LocalServer) -> None:
    bomb = brotli.compress(b"\0" * 20_000_000, quality=11)
    assert len(bomb) < 10_000
    local.routes["/brbomb"] = _respond(
        200, {"Content-Type": "text/html", "Content-Encoding": "br"}, bomb
    )

    with pytest.raises(TooLarge):
        _fetcher(local, max_bytes=1_000_000).fetch(local.url("/brbomb"))


def test_brotli_is_advertised_in_accept_encoding(local: LocalServer) -> None:
    seen: list[str] = []

    def page(handler: BaseHTTPRequestHandler) -> None:
        seen.append(handler.headers.get("Accept-Encoding", ""))
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "13")
        handler.end_headers()
        handler.wfile.write(b"<html></html>")

    local.routes["/ae"] = page
    _fetcher(local).fetch(local.url("/ae"))

    assert "br" in [p.strip() for p in seen[0].split(",")]
