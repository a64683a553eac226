"""Freepik webhook signature verification (docs.freepik.com/webhooks)."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from ecomvideo.webhooks.signature import (
    InvalidSignature,
    raw_body,
    sign_freepik_webhook,
    verify_freepik_signature,
)

SECRET = "test-secret-123"
WEBHOOK_ID = "msg_2Lq0vZk9"
TS = 1767225600
BODY = (
    b'{"task_id":"7c1e9b54-3f2a-4d86-b0e7-1a9c4f6d2e35","status":"COMPLETED",'
    b'"generated":["https://cdn.example/v.mp4"]}'
)
# Computed independently (plain hmac/base64 over f"{id}.{ts}.{body}" with the UTF-8 secret).
KNOWN_SIGNATURE = "3ZbdZhQsoQAaA4tKi2HAJCV7T3tzqvhs4tW8oZetB7U="
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KNOWN_WHSEC_SIGNATURE = "UU6gj/s1YqGuvsIrPJ8fEI0wTMxnd05ICWMmT0FH1Qo="


def headers(signature: str = f"v1,{KNOWN_SIGNATURE}", ts: int | str = TS) -> dict[str, str]:
    return {"webhook-id": WEBHOOK_ID, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_valid_delivery_returns_webhook_id() -> None:
    assert verify_freepik_signature(headers(), BODY, SECRET, now=TS + 10) == WEBHOOK_ID


def test_signing_helper_matches_the_documented_scheme() -> None:
    signed = sign_freepik_webhook(BODY, SECRET, WEBHOOK_ID, TS)
    assert signed == headers()


def test_header_names_are_case_insensitive() -> None:
    mixed = {"Webhook-Id": WEBHOOK_ID, "WEBHOOK-TIMESTAMP": str(TS),
             "Webhook-Signature": f"v1,{KNOWN_SIGNATURE}"}  # fmt: skip
    assert verify_freepik_signature(mixed, BODY, SECRET, now=TS) == WEBHOOK_ID


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(), BODY, "another-secret", now=TS)
    assert err.value.reason == "signature_mismatch"


def test_tampered_body_is_rejected() -> None:
    tampered = BODY.replace(b"COMPLETED", b"FAILED")
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(), tampered, SECRET, now=TS)
    assert err.value.reason == "signature_mismatch"


def test_tampered_webhook_id_is_rejected() -> None:
    h = headers() | {"webhook-id": "msg_other"}
    with pytest.raises(InvalidSignature):
        verify_freepik_signature(h, BODY, SECRET, now=TS)


def test_timestamp_older_than_tolerance_is_rejected() -> None:
    assert verify_freepik_signature(headers(), BODY, SECRET, now=TS + 300) == WEBHOOK_ID
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(), BODY, SECRET, now=TS + 301)
    assert err.value.reason == "timestamp_too_old"


def test_timestamp_too_far_in_the_future_is_rejected() -> None:
    assert verify_freepik_signature(headers(), BODY, SECRET, now=TS - 300) == WEBHOOK_ID
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(), BODY, SECRET, now=TS - 301)
    assert err.value.reason == "timestamp_in_future"


def test_custom_tolerance_is_honoured() -> None:
    with pytest.raises(InvalidSignature):
        verify_freepik_signature(headers(), BODY, SECRET, now=TS + 61, tolerance=60)


@pytest.mark.parametrize("ts", ["abc", "", " 1767225600", "+1767225600", "1767225600.5",
                                "1_767_225_600", "١٧٦٧٢٢٥٦٠٠"])  # fmt: skip
def test_non_numeric_timestamp_is_rejected(ts: str) -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(ts=ts), BODY, SECRET, now=TS)
    assert err.value.reason in {"invalid_timestamp", "missing_header"}


def test_one_valid_entry_among_several_is_enough() -> None:
    sig = f"v1,{base64.b64encode(b'x' * 32).decode()} v2,{KNOWN_SIGNATURE} v1,{KNOWN_SIGNATURE}"
    assert verify_freepik_signature(headers(sig), BODY, SECRET, now=TS) == WEBHOOK_ID


def test_any_listed_entry_that_verifies_passes_whatever_its_version_label() -> None:
    # Freepik's docs: "v1,sig1 v2,sig2" (key versions during rotation); valid if any matches.
    assert verify_freepik_signature(headers(f"v2,{KNOWN_SIGNATURE}"), BODY, SECRET, now=TS) == (
        WEBHOOK_ID
    )
    # A deployment may still restrict the labels it accepts.
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(
            headers(f"v2,{KNOWN_SIGNATURE}"), BODY, SECRET, now=TS, versions=("v1",)
        )
    assert err.value.reason == "no_supported_signature"


def test_only_invalid_entries_are_rejected() -> None:
    tampered = ("A" if KNOWN_SIGNATURE[0] != "A" else "B") + KNOWN_SIGNATURE[1:]
    sig = f"v1,{base64.b64encode(b'y' * 32).decode()} v1,garbage v2,{tampered} ,{KNOWN_SIGNATURE}"
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(sig), BODY, SECRET, now=TS)
    assert err.value.reason == "signature_mismatch"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_rejected(missing: str) -> None:
    h = headers()
    del h[missing]
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(h, BODY, SECRET, now=TS)
    assert err.value.reason == "missing_header"


def test_empty_secret_never_verifies() -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_freepik_signature(headers(), BODY, "", now=TS)
    assert err.value.reason == "no_secret"


def test_svix_style_whsec_secret_uses_the_decoded_key() -> None:
    h = headers(f"v1,{KNOWN_WHSEC_SIGNATURE}")
    assert verify_freepik_signature(h, BODY, WHSEC, now=TS) == WEBHOOK_ID
    assert sign_freepik_webhook(BODY, WHSEC, WEBHOOK_ID, TS) == h


def test_whsec_secret_also_accepts_its_literal_utf8_bytes() -> None:
    # Freepik's docs say "encode the secret as bytes"; a whsec_ secret may be used literally.
    literal = sign_freepik_webhook(BODY, "whsec_not-base64!", WEBHOOK_ID, TS)
    assert verify_freepik_signature(literal, BODY, "whsec_not-base64!", now=TS) == WEBHOOK_ID


def test_rotation_accepts_any_of_several_secrets() -> None:
    assert verify_freepik_signature(headers(), BODY, ["old", SECRET], now=TS) == WEBHOOK_ID


def test_base64_encoded_api_gateway_body_verifies_after_decoding() -> None:
    encoded = base64.b64encode(BODY).decode()
    with pytest.raises(InvalidSignature):
        verify_freepik_signature(headers(), encoded, SECRET, now=TS)
    assert verify_freepik_signature(headers(), raw_body(encoded, True), SECRET, now=TS)
    assert raw_body(BODY.decode(), False) == BODY
    assert raw_body(None) == b""
    with pytest.raises(InvalidSignature) as err:
        raw_body("not base64 !!", True)
    assert err.value.reason == "invalid_body"


def test_module_imports_only_the_standard_library() -> None:
    layer = Path(__file__).resolve().parents[3] / "layers" / "core" / "python"
    code = (
        "import sys; before = set(sys.modules);"
        "import ecomvideo.webhooks.signature;"
        "heavy = {'pydantic', 'sqlalchemy', 'httpx', 'boto3', 'botocore', 'aws_lambda_powertools',"
        " 'psycopg'};"
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before};"
        "print(sorted(loaded & heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(layer)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"
