"""No credentials in the repository: every tracked file is scanned for key patterns."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}", re.IGNORECASE
    ),
    "Stripe live key": re.compile(r"\b(sk|rk)_live_[0-9A-Za-z]{10,}"),
    "Stripe webhook secret": re.compile(r"\bwhsec_[0-9A-Za-z]{24,}"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "Slack/GitHub token": re.compile(r"\b(xox[abp]-[0-9A-Za-z-]{10,}|ghp_[0-9A-Za-z]{36})"),
}
# Test fixtures may carry throwaway keys generated for the tests; nothing else may.
ALLOWED_PREFIXES = ("tests/fakes/", "tests/unit/freepik/", "events/")


def _tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line]


def test_tracked_files_contain_no_credentials():
    findings = []
    for name in _tracked_files():
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for label, pattern in PATTERNS.items():
            if pattern.search(text) and not name.startswith(ALLOWED_PREFIXES):
                findings.append(f"{name}: {label}")
    assert findings == []


def test_the_scanner_catches_a_planted_key():
    planted = "aws_access_key_id = AKIA" + "ABCDEFGHIJKLMNOP"
    assert PATTERNS["AWS access key id"].search(planted)
    assert PATTERNS["Stripe live key"].search("sk_live_" + "a1B2c3D4e5F6g7")
