"""A parsed page plus the small DOM helpers every layer uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ecomvideo.scraping.text import clean_text, one_line


@dataclass
class Page:
    url: str
    html: str
    tree: LexborHTMLParser
    base: str  # URL relative links resolve against (<base href> or the page URL)
    domain: str
    meta: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, html: str, url: str) -> Page:
        tree = LexborHTMLParser(html)
        base = url
        node = tree.css_first("base[href]")
        if node is not None:
            href = (node.attributes.get("href") or "").strip()
            if href and not href.lower().startswith(("javascript:", "data:")):
                base = urljoin(url, href)
        domain = (urlsplit(url).hostname or "").lower().removeprefix("www.")
        return cls(url=url, html=html, tree=tree, base=base, domain=domain)

    def first(self, css: str) -> LexborNode | None:
        return self.tree.css_first(css)

    def text(self, css: str) -> str | None:
        """One-line text of the first match of ``css``."""
        node = self.tree.css_first(css)
        return one_line(node.text(deep=True, separator=" ")) if node is not None else None

    def block_text(self, css: str) -> str | None:
        """Multi-line clean text (descriptions) of the first match of ``css``."""
        node = self.tree.css_first(css)
        return clean_text(node.html) if node is not None and node.html else None

    def attr(self, css: str, name: str) -> str | None:
        node = self.tree.css_first(css)
        if node is None:
            return None
        value = node.attributes.get(name)
        return value.strip() if value and value.strip() else None

    def meta_first(self, name: str) -> str | None:
        """The first ``<meta>`` value for ``name`` (property or name), if any."""
        values = self.meta.get(name)
        return values[0] if values else None

    def title(self) -> str | None:
        return self.text("title")
