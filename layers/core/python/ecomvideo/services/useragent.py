"""A small, dependency-free User-Agent parser for analytics: device type, browser, OS, bot.

Analytics needs coarse buckets (Mobile/Desktop/Tablet, browser family, OS family), not exact
versions, so a few ordered rules beat a 300 kB regex database in a Lambda layer. Order matters:
Edge and Opera also say "Chrome", Chrome also says "Safari", in-app browsers say "Safari" too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ecomvideo.enums import DeviceType

# Known crawlers, link-preview fetchers and HTTP libraries: recorded but never counted.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|embedly|preview|"
    r"whatsapp|telegram|discord|skypeuripreview|headlesschrome|phantomjs|lighthouse|"
    r"python-requests|python-urllib|aiohttp|httpx|curl/|wget/|go-http-client|java/|"
    r"libwww|okhttp/[0-9.]+$|scrapy|bingpreview|pingdom|uptimerobot|monitor",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (7|9|10)|sm-t\d", re.IGNORECASE)
_MOBILE = re.compile(
    r"mobi|iphone|ipod|android|windows phone|blackberry|opera mini|iemobile", re.IGNORECASE
)

_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name)
    for pattern, name in (
        (r"instagram", "Instagram In-App"),
        (r"fban|fbav|fb_iab", "Facebook In-App"),
        (r"musical_ly|bytedancewebview|tiktok", "TikTok In-App"),
        (r"pinterest", "Pinterest In-App"),
        (r"edg(e|a|ios)?/", "Edge"),
        (r"opr/|opera", "Opera"),
        (r"samsungbrowser", "Samsung Internet"),
        (r"yabrowser", "Yandex"),
        (r"firefox/|fxios/", "Firefox"),
        (r"crios/|chrome/|chromium/", "Chrome"),
        (r"version/[\d.]+.*safari/|mobile/\w+ safari|applewebkit.*mobile/", "Safari"),
        (r"msie |trident/", "Internet Explorer"),
    )
)
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name)
    for pattern, name in (
        (r"windows phone", "Windows Phone"),
        (r"windows nt|win64|win32", "Windows"),
        (r"iphone|ipad|ipod|ios", "iOS"),
        (r"cros ", "ChromeOS"),
        (r"android", "Android"),
        (r"mac os x|macintosh", "macOS"),
        (r"linux|x11", "Linux"),
    )
)


@dataclass(frozen=True)
class UserAgentInfo:
    device_type: DeviceType | None
    browser: str | None
    os: str | None
    is_bot: bool


def _first(rules: tuple[tuple[re.Pattern[str], str], ...], value: str) -> str | None:
    for pattern, name in rules:
        if pattern.search(value):
            return name
    return None


@lru_cache(maxsize=1024)
def parse(user_agent: str | None) -> UserAgentInfo:
    """Classify a User-Agent header; an empty one is treated as a bot (browsers always send it)."""
    ua = (user_agent or "").strip()
    if not ua:
        return UserAgentInfo(device_type=None, browser=None, os=None, is_bot=True)
    is_bot = bool(_BOT.search(ua))
    system = _first(_SYSTEMS, ua)
    if _TABLET.search(ua) or (system == "Android" and "mobile" not in ua.lower()):
        device = DeviceType.TABLET
    elif _MOBILE.search(ua):
        device = DeviceType.MOBILE
    else:
        device = DeviceType.DESKTOP
    browser = _first(_BROWSERS, ua) or "Other"
    return UserAgentInfo(device_type=device, browser=browser, os=system or "Other", is_bot=is_bot)
