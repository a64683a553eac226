"""Freepik webhook signature: verifications per second and cold import cost.

    .venv/bin/python bench/webhook_signature_bench.py [--n 50000] [--runs 15]

Prints (1) verifications/s for a valid delivery, a 3-entry rotation header, a forged signature
and a stale timestamp (the cheapest rejection), and (2) what ``import
ecomvideo.webhooks.signature`` costs in a fresh interpreter: ``-X importtime`` self/cumulative
time and wall-clock over an empty interpreter, next to ``ecomvideo.clients.freepik`` (pydantic
+ httpx + Powertools) for scale. The webhook handler imports the former first so that rejected
requests never pay for the latter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path.insert(0, str(LAYER))

from ecomvideo.webhooks.signature import (  # noqa: E402 - after the path setup
    InvalidSignature,
    sign_freepik_webhook,
    verify_freepik_signature,
)

SECRET = "bench-webhook-secret-0123456789abcdef"  # noqa: S105 - bench fixture, not a secret
BODY = json.dumps(
    {
        "task_id": "7c1e9b54-3f2a-4d86-b0e7-1a9c4f6d2e35",
        "status": "COMPLETED",
        "generated": [
            "https://cdn-magnific.freepik.com/kling_v2_1_pro_7c1e9b54.mp4"
            "?token=exp=1795000000~hmac=9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f8a6c4e2b0d9f7a5c3e1b8d6f4a2c0e9b7d"
        ],
    },
    separators=(",", ":"),
).encode()


def _rate(n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def throughput(n: int) -> dict[str, float]:
    """Verifications per second for the common cases."""
    now = 1_800_000_000
    valid = sign_freepik_webhook(BODY, SECRET, "msg_bench", now)
    rotation = dict(valid)
    rotation["webhook-signature"] = (
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,BBBB " + valid["webhook-signature"]
    )
    forged = dict(valid, **{"webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
    stale = sign_freepik_webhook(BODY, SECRET, "msg_bench", now - 3600)

    def ok(headers: dict[str, str]) -> Callable[[], object]:
        return lambda: verify_freepik_signature(headers, BODY, SECRET, now=now)

    def rejected(headers: dict[str, str]) -> Callable[[], None]:
        def run() -> None:
            try:
                verify_freepik_signature(headers, BODY, SECRET, now=now)
            except InvalidSignature:
                return
            raise AssertionError("should have been rejected")

        return run

    return {
        "valid (1 entry)": _rate(n, ok(valid)),
        "valid (3 entries, rotation)": _rate(n, ok(rotation)),
        "forged signature (rejected)": _rate(n, rejected(forged)),
        "stale timestamp (rejected)": _rate(n, rejected(stale)),
    }


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(LAYER)
    return env


def importtime(module: str) -> tuple[int, int]:
    """(self, cumulative) microseconds of ``module`` from ``-X importtime`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, env=_env(), check=True,
    )  # fmt: skip
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[0].split(":")[-1]), int(parts[1])
    raise RuntimeError(f"{module} not in importtime output")


def wall(code: str, runs: int) -> float:
    """Median wall-clock milliseconds of ``python -c code`` in a fresh interpreter."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=_env(), check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="verifications per case")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]} on {sys.platform}; body {len(BODY)} bytes")
    print(f"\nverify_freepik_signature, {args.n} calls per case")
    for case, rate in throughput(args.n).items():
        print(f"  {case:<30} {rate:>12,.0f} /s   {1e6 / rate:7.2f} us/call")

    print("\nimport cost in a fresh interpreter")
    for module in ("ecomvideo.webhooks.signature", "ecomvideo.clients.freepik"):
        own, cumulative = importtime(module)
        print(f"  -X importtime {module:<30} self {own:>7} us   cumulative {cumulative:>8} us")
    empty = wall("pass", args.runs)
    sig = wall("import ecomvideo.webhooks.signature", args.runs)
    client = wall("import ecomvideo.clients.freepik", args.runs)
    print(f"  wall, median of {args.runs}: empty interpreter {empty:.1f} ms")
    print(f"    + ecomvideo.webhooks.signature  {sig:.1f} ms  (+{sig - empty:.1f} ms)")
    print(f"    + ecomvideo.clients.freepik     {client:.1f} ms  (+{client - empty:.1f} ms)")


if __name__ == "__main__":
    main()
