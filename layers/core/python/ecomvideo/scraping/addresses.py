"""Which network addresses the scraper may contact (the SSRF guard's address policy).

The policy is an object so that tests can pass a more permissive one *explicitly* (e.g. to
reach a local 127.0.0.1 test server). Production code only ever uses ``PublicAddressPolicy``,
which has no switch to turn it off.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Protocol

from ecomvideo.scraping.errors import BlockedAddress, FetchFailed, InvalidUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Resolver: (host, port) -> list of IP address strings. Injectable so tests never touch DNS.
Resolver = Callable[[str, int], list[str]]

# Explicit list on top of ``ipaddress``'s flags: the flags' exact coverage has changed between
# Python patch releases, and this list is what we promise.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # CGNAT shared address space
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, incl. cloud metadata 169.254.169.254
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1 documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast 255.255.255.255
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, benchmarking, ORCHID...)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# Hosts made of digits/hex parts that inet_aton would accept: 2130706433, 0177.0.0.1, 0x7f.1.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64 or 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a public unicast address we may connect to."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public_address(inner)
        if ip.scope_id:  # fe80::1%eth0 and friends
            return False
        if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in _BLOCKED_V6):
            return False
    elif any(ip in net for net in _BLOCKED_V4):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def parse_ip_literal(host: str) -> IPAddress | None:
    """Interpret ``host`` as an IP address the way browsers and libc would, or return None.

    Accepts bracketed/plain IPv6, dotted IPv4 and the odd spellings ``inet_aton`` accepts
    (decimal ``2130706433``, octal ``0177.0.0.1``, hex ``0x7f.1``, short ``127.1``), so that
    these cannot be used to sneak past the address check.
    """
    h = host.strip().strip("[]")
    if not h:
        return None
    if ":" in h:
        try:
            return ipaddress.IPv6Address(h)
        except ValueError as exc:
            raise InvalidUrl("The address in this URL is not valid.") from exc
    if _NUMERIC_HOST.match(h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h.rstrip(".")))
        except OSError as exc:
            raise InvalidUrl("The address in this URL is not valid.") from exc
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` once with the system resolver; all addresses, in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in seen:
            seen.append(addr)
    return seen


class AddressPolicy(Protocol):
    """Decides whether an already-resolved IP may be contacted."""

    def is_allowed(self, ip: IPAddress) -> bool: ...


class PublicAddressPolicy:
    """The production policy: public unicast addresses only."""

    def is_allowed(self, ip: IPAddress) -> bool:
        return is_public_address(ip)


PUBLIC_ONLY: AddressPolicy = PublicAddressPolicy()


def check_address(ip: IPAddress, policy: AddressPolicy) -> None:
    """Raise ``BlockedAddress`` unless ``policy`` allows ``ip``."""
    if not policy.is_allowed(ip):
        raise BlockedAddress()


def resolve_checked(
    host: str, port: int, *, policy: AddressPolicy, resolver: Resolver
) -> IPAddress:
    """Resolve ``host`` once and return the address to connect to.

    Every returned address must pass the policy (not just the first): a name that resolves to
    a public and a private address is refused, so the choice of address cannot be steered.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        check_address(literal, policy)
        return literal
    if host.lower().rstrip(".") in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost"
    ):
        raise BlockedAddress()
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed("The shop's domain name could not be found.") from exc
    if not addresses:
        raise FetchFailed("The shop's domain name could not be found.")
    parsed: list[IPAddress] = []
    for addr in addresses:
        try:
            ip = ipaddress.ip_address(addr.split("%", 1)[0])
        except ValueError as exc:
            raise BlockedAddress() from exc
        if "%" in addr:  # zoned (link-local) addresses are never public
            raise BlockedAddress()
        check_address(ip, policy)
        parsed.append(ip)
    return parsed[0]
