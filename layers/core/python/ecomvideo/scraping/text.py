"""Text helpers: decoding page bytes to str and cleaning HTML fragments to plain text."""

from __future__ import annotations

import codecs
import html
import re

from selectolax.lexbor import LexborHTMLParser

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
# WHATWG Encoding Standard aliases: what browsers really use for these labels.
_WHATWG = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-kr": "cp949",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _WHATWG.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes | str, header_charset: str | None = None) -> str:
    """Decode page bytes like a browser: BOM, then HTTP charset, then ``<meta charset>``,
    then UTF-8 if it decodes cleanly, else windows-1252. Never raises."""
    if isinstance(data, str):
        return data
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace")
    candidates = [_codec(header_charset)]
    match = _META_CHARSET.search(data[:4096])
    if match:
        candidates.append(_codec(match.group(1).decode("ascii", "ignore")))
    for label in candidates:
        # A page declaring UTF-16 in a meta tag is lying (it could not be read as ASCII).
        if label and not label.startswith("utf-16"):
            return data.decode(label, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|ul|ol|h[1-6]|tr|table|section|article)>")
_LI_START = re.compile(r"(?i)<li[^>]*>")
_WS = re.compile(r"[ \t\r\f\v\u00a0\u200b\u202f]+")


def clean_text(value: str | None) -> str | None:
    """Plain text from a string that may contain HTML: tags removed, entities decoded,
    whitespace collapsed, paragraph breaks kept as single newlines."""
    if value is None:
        return None
    text = str(value)
    if "<" in text and ">" in text:
        text = _BLOCK_END.sub("\n", text)
        text = _LI_START.sub("\n", text)
        tree = LexborHTMLParser(f"<body>{text}</body>")
        for bad in tree.css("script, style, noscript, template"):
            bad.decompose()
        text = tree.body.text(deep=True, separator="") if tree.body else ""
    else:
        text = html.unescape(text)
    lines = (_WS.sub(" ", line).strip() for line in text.split("\n"))
    out = "\n".join(line for line in lines if line)
    return out or None


def one_line(value: str | None) -> str | None:
    """``clean_text`` squeezed to a single line (names, brands, SKUs)."""
    text = clean_text(value)
    return " ".join(text.split()) if text else None
