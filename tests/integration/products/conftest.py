"""Fixtures for the products API: a local "shop" on 127.0.0.2, a canary on 127.0.0.1.

No request leaves the machine: shop host names resolve (injected resolver) to 127.0.0.2, which
the test address policy allows in addition to public addresses; the canary on 127.0.0.1 stays
blocked like every other private address and must never receive a request.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecomvideo.scraping import FetchConfig, SafeFetcher, is_public_address
from ecomvideo.services import product_scraper

PAGES = Path(__file__).resolve().parents[2] / "unit" / "scraping" / "pages"
SHOP_IP = "127.0.0.2"

Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A loopback HTTP server that records every request and serves configured routes."""

    def __init__(self, host: str) -> None:
        self.hits: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self.routes: dict[str, Route] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                server.request_headers.append({k.lower(): v for k, v in self.headers.items()})
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"not found")
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

    def page(
        self,
        path: str,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route

    def corpus(self, path: str, name: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.page(path, (PAGES / name).read_bytes(), content_type)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ShopOnlyPolicy:
    """Test policy: public addresses plus the shop's loopback address, nothing else."""

    def is_allowed(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return str(ip) == SHOP_IP or is_public_address(ip)


def shop_resolver(host: str, port: int) -> list[str]:
    """*.shop.test -> the shop; evil.test -> the canary's private address; no real DNS."""
    if host.endswith("shop.test"):
        return [SHOP_IP]
    if host == "evil.test":
        return ["127.0.0.1"]
    if host == "metadata.test":
        return ["169.254.169.254"]
    raise OSError(f"no such host {host}")


@pytest.fixture
def shop() -> Iterator[LocalServer]:
    server = LocalServer(SHOP_IP).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def canary() -> Iterator[LocalServer]:
    server = LocalServer("127.0.0.1").start()
    server.page("/", b"<html><body>canary</body></html>")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def scraper(shop: LocalServer, canary: LocalServer, waits: list[float]) -> Iterator[SafeFetcher]:
    """The service's fetcher pointed at the local shop; scrapes run inline (no queue)."""
    config = FetchConfig(
        allowed_ports=frozenset({80, 443, shop.port, canary.port}),
        connect_timeout=1.0,
        read_timeout=0.5,
        total_timeout=2.0,
        max_bytes=256 * 1024,
    )
    fetcher = SafeFetcher(config, policy=ShopOnlyPolicy(), resolver=shop_resolver)
    product_scraper.set_fetcher(fetcher)
    product_scraper.set_options(product_scraper.ScrapeOptions(default_delay_ms=0))
    product_scraper.set_sleep(waits.append)
    try:
        yield fetcher
    finally:
        fetcher.close()
        product_scraper.set_fetcher(None)
        product_scraper.set_options(None)
        product_scraper.set_sleep(None)
