"""Freepik (Magnific) webhook signature verification, standard library only.

This module is imported by the Freepik webhook handler *before* anything heavy (pydantic,
SQLAlchemy, boto3), so that forged or replayed requests are rejected in microseconds on a cold
container. Keep it importing only the standard library: ``bench/webhook_signature_bench.py``
measures its import time.

What is confirmed and what is assumed (docs.freepik.com/webhooks, read November 2026):

* CONFIRMED: every delivery carries ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature``; the signed content is ``f"{webhook-id}.{webhook-timestamp}.{raw body}"``;
  the secret key is "encoded as bytes" (UTF-8) and used as the HMAC-SHA256 key; the digest is
  base64-encoded; the header is a space-delimited list of ``<version>,<signature>`` entries
  (several during key rotation) and the request is valid if any entry matches.
* ASSUMED: ``webhook-timestamp`` is Unix seconds (the docs do not give the unit; Standard
  Webhooks, which this scheme mirrors, uses seconds). A 5-minute tolerance in both directions.
* AMBIGUOUS: the Freepik docs' example header is ``v1,signature1 v2,signature2`` and says to
  verify "each one using the corresponding secret key version", i.e. the version may name a
  *key* generation rather than the *scheme*. The docs' rule is that the request is valid if
  any listed signature matches, so by default every entry, whatever its version label, is
  compared with the HMAC of each secret we hold; pass ``versions=`` to restrict the labels.
* AMBIGUOUS: one Magnific page calls the scheme Svix-style, where the secret looks like
  ``whsec_<base64>`` and the HMAC key is the base64-*decoded* part. The Freepik docs say to use
  the secret's UTF-8 bytes. For a ``whsec_`` secret we therefore try both keys (decoded, then
  the literal UTF-8 bytes); both derive from the same secret, so this does not weaken anything.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import time

# ``base64`` would pull in ``re``/``enum``/``struct`` (~8 ms cold); ``binascii`` is built in.
# ``collections.abc`` is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "InvalidSignature",
    "raw_body",
    "sign_freepik_webhook",
    "standard_webhook_headers",
    "verify_freepik_signature",
]

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300
_SVIX_PREFIX = "whsec_"
# Bounds that keep a hostile request from making us hash or split megabytes of header.
_MAX_ID_LEN = 256
_MAX_SIGNATURE_HEADER_LEN = 4096


class InvalidSignature(Exception):
    """The delivery is not authentic or not fresh. ``reason`` is a short machine-readable code.

    Reasons: ``missing_header``, ``invalid_header``, ``invalid_timestamp``, ``timestamp_too_old``,
    ``timestamp_in_future``, ``no_supported_signature``, ``signature_mismatch``, ``no_secret``.
    Never echo the reason to the caller beyond a 401; log it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _keys_for(secret: str) -> list[bytes]:
    """HMAC keys derived from one configured secret (see the module docstring on whsec_)."""
    keys: list[bytes] = []
    if secret.startswith(_SVIX_PREFIX):
        try:
            keys.append(binascii.a2b_base64(secret[len(_SVIX_PREFIX) :], strict_mode=True))
        except (binascii.Error, ValueError):
            keys = []  # not valid base64: only the literal bytes below can match
    keys.append(secret.encode("utf-8"))
    return keys


def _signature(key: bytes, signed: bytes) -> bytes:
    return binascii.b2a_base64(hmac.new(key, signed, hashlib.sha256).digest(), newline=False)


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # HTTP header names are case-insensitive; API Gateway v2 lowercases them, other
    # front-ends (and tests) may not.
    return {str(k).lower(): v for k, v in headers.items()}


def verify_freepik_signature(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str | Iterable[str],
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    versions: Iterable[str] | None = None,
) -> str:
    """Verify a Freepik webhook delivery and return its ``webhook-id``.

    ``body`` must be the raw bytes as received (decode API Gateway's base64 first, see
    :func:`raw_body`); re-serialised JSON will not match. ``secret`` may be several secrets
    during a rotation. Timestamps older than ``tolerance`` seconds or more than ``tolerance``
    seconds in the future are rejected (replay protection); dedupe on the returned id.

    Raises:
        InvalidSignature: with a ``reason`` code; the handler answers 401 and changes nothing.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    secrets = [s for s in secrets if s]
    if not secrets:
        raise InvalidSignature("no_secret")

    lowered = _lower_headers(headers)
    webhook_id = lowered.get(HEADER_ID)
    timestamp = lowered.get(HEADER_TIMESTAMP)
    signature_header = lowered.get(HEADER_SIGNATURE)
    if not webhook_id or not timestamp or not signature_header:
        raise InvalidSignature("missing_header")
    if len(webhook_id) > _MAX_ID_LEN or len(signature_header) > _MAX_SIGNATURE_HEADER_LEN:
        raise InvalidSignature("invalid_header")

    # Plain ASCII digits only: int() would also accept " 12", "+12" and "1_2".
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise InvalidSignature("invalid_timestamp")
    sent_at = int(timestamp)
    current = time.time() if now is None else now
    if sent_at < current - tolerance:
        raise InvalidSignature("timestamp_too_old")
    if sent_at > current + tolerance:
        raise InvalidSignature("timestamp_in_future")

    accepted = None if versions is None else frozenset(versions)
    candidates: list[bytes] = []
    for entry in signature_header.split():
        version, sep, value = entry.partition(",")
        if sep and version and value and (accepted is None or version in accepted):
            candidates.append(value.encode("utf-8"))
    if not candidates:
        raise InvalidSignature("no_supported_signature")

    # The exact header strings are signed, not a normalised form of them.
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    for s in secrets:
        for key in _keys_for(s):
            expected = _signature(key, signed)
            matched = False
            # Compare against every candidate (no early exit) so timing does not reveal which.
            for candidate in candidates:
                matched |= hmac.compare_digest(expected, candidate)
            if matched:
                return webhook_id
    raise InvalidSignature("signature_mismatch")


def standard_webhook_headers(
    body: bytes | str, secrets: Iterable[str], webhook_id: str, timestamp: int | str
) -> dict[str, str]:
    """Standard Webhooks headers for ``body``: one ``v1,<base64>`` entry per active secret
    (two during a rotation), space-separated; receivers accept any entry that matches.

    A ``whsec_<base64>`` secret is signed with its decoded bytes (the Standard Webhooks rule);
    any other secret (or a ``whsec_`` one that is not valid base64) with its UTF-8 bytes.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    ts = str(timestamp)
    signed = f"{webhook_id}.{ts}.".encode() + body
    entries = ["v1," + _signature(_keys_for(s)[0], signed).decode("ascii") for s in secrets if s]
    return {HEADER_ID: webhook_id, HEADER_TIMESTAMP: ts, HEADER_SIGNATURE: " ".join(entries)}


def sign_freepik_webhook(
    body: bytes | str, secret: str, webhook_id: str, timestamp: int | str
) -> dict[str, str]:
    """Headers Freepik would send for ``body`` (for tests and the fake Freepik server)."""
    return standard_webhook_headers(body, [secret], webhook_id, timestamp)


def raw_body(body: str | bytes | None, is_base64_encoded: bool = False) -> bytes:
    """The raw request bytes from an API Gateway event's ``body``/``isBase64Encoded`` pair.

    API Gateway base64-encodes bodies it considers binary; the signature covers the original
    bytes, so decode before verifying. Invalid base64 raises ``InvalidSignature('invalid_body')``.
    """
    if body is None:
        return b""
    if is_base64_encoded:
        try:
            return binascii.a2b_base64(body, strict_mode=True)
        except (binascii.Error, ValueError):
            raise InvalidSignature("invalid_body") from None
    return body.encode("utf-8") if isinstance(body, str) else body
