"""User-agent classification and IP anonymisation used by analytics tracking."""

from __future__ import annotations

import pytest

from ecomvideo.enums import DeviceType
from ecomvideo.services.analytics import anonymize_ip, country
from ecomvideo.services.useragent import parse

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
WIN_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
INSTAGRAM = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 330.0.3.12.90"
)


@pytest.mark.parametrize(
    ("ua", "device", "browser", "os"),
    [
        (IPHONE, DeviceType.MOBILE, "Safari", "iOS"),
        (IPAD, DeviceType.TABLET, "Safari", "iOS"),
        (ANDROID_PHONE, DeviceType.MOBILE, "Chrome", "Android"),
        (ANDROID_TABLET, DeviceType.TABLET, "Chrome", "Android"),
        (WIN_EDGE, DeviceType.DESKTOP, "Edge", "Windows"),
        (MAC_FIREFOX, DeviceType.DESKTOP, "Firefox", "macOS"),
        (INSTAGRAM, DeviceType.MOBILE, "Instagram In-App", "iOS"),
    ],
)
def test_browsers_are_classified(ua, device, browser, os):
    info = parse(ua)
    assert (info.device_type, info.browser, info.os, info.is_bot) == (device, browser, os, False)


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/124.0 Safari/537.36",
        "",
        None,
    ],
)
def test_crawlers_and_empty_agents_are_bots(ua):
    assert parse(ua).is_bot is True


@pytest.mark.parametrize(
    ("ip", "stored"),
    [
        ("198.51.100.77", "198.51.100.0"),
        ("10.0.0.255", "10.0.0.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:203.0.113.9", "203.0.113.0"),
        ("not-an-ip", None),
        (None, None),
    ],
)
def test_ip_is_truncated_to_24_or_48_bits(ip, stored):
    assert anonymize_ip(ip) == stored


def test_country_header_is_validated():
    assert country("de") == "DE"
    assert country("XX1") is None and country(None) is None
