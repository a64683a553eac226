"""Auth latency and cold-import cost.

    .venv/bin/python bench/auth_bench.py [--n 200]

Prints (1) p50/p95/mean of ``POST /v1/auth/login`` and ``POST /v1/auth/refresh`` called
in-process through the real handler (API Gateway v2 events, pydantic validation, argon2id,
PostgreSQL on the project's local server, a scratch database ``ecomvideo_bench``), and (2)
the import time of the auth and authorizer handler modules in a fresh interpreter (median of
several runs), checking that the authorizer pulls in neither SQLAlchemy nor boto3.
Email sending is stubbed (no SES call is timed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]
BENCH_DB = "ecomvideo_bench"
PASSWORD = "bench passphrase 0123"  # noqa: S105 - bench fixture, not a secret

IMPORT_PROBE = """
import sys, time, importlib.util
sys.path[:0] = [{layer!r}]
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("sqlalchemy", "boto3", "psycopg") if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def _prepare_database() -> str:
    from devserver.pg import scratch_database

    return scratch_database(BENCH_DB)


class _NullSes:
    def send_email(self, **_: Any) -> dict[str, str]:
        return {"MessageId": "bench"}


def _load(function: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"_bench_{function}", ROOT / "functions" / function / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"mean {statistics.fmean(samples) * 1000:7.1f} ms   n={len(samples)}"
    )


def bench_latency(n: int) -> None:
    url = _prepare_database()
    from ecomvideo.security.jwt import generate_keypair

    private, public = generate_keypair()
    os.environ.update(
        {
            "DATABASE_URL": url,
            "STAGE": "bench",
            "JWT_PRIVATE_KEY": private,
            "JWT_PUBLIC_KEY": public,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "AWS_REGION": "us-east-1",
        }
    )
    from devserver.events import HttpRequest, LambdaContext, http_event
    from ecomvideo.clients.email import EmailClient, set_email_client

    set_email_client(EmailClient("bench@example.com", _NullSes()))
    auth = _load("auth")
    ctx = LambdaContext("auth", memory_mb=1024, timeout_s=15, region="us-east-1")

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = HttpRequest(
            method="POST",
            path=path,
            headers=[("content-type", "application/json")],
            body=json.dumps(body).encode(),
            source_ip="192.0.2.1",
        )
        response = auth.lambda_handler(http_event(request, route_key=f"POST {path}"), ctx)
        assert response["statusCode"] < 300, response
        return json.loads(response["body"]) if response.get("body") else {}

    call("/v1/auth/register", {"email": "bench@example.com", "password": PASSWORD})
    credentials = {"email": "bench@example.com", "password": PASSWORD}
    for _ in range(5):  # warm the engine pool, caches and code paths
        tokens = call("/v1/auth/login", credentials)
    logins, refreshes = [], []
    for _ in range(n):
        t = time.perf_counter()
        tokens = call("/v1/auth/login", credentials)
        logins.append(time.perf_counter() - t)
    refresh_token = tokens["refresh_token"]
    for _ in range(n):
        t = time.perf_counter()
        refresh_token = call("/v1/auth/refresh", {"refresh_token": refresh_token})["refresh_token"]
        refreshes.append(time.perf_counter() - t)
    print(f"login   (handler, argon2id verify, PostgreSQL)  {_percentiles(logins)}")
    print(f"refresh (handler, rotation, PostgreSQL)         {_percentiles(refreshes)}")


def bench_imports(runs: int) -> None:
    baseline = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - t)
    for function in ("authorizer", "auth", "account", "health"):
        path = str(ROOT / "functions" / function / "app.py")
        samples, heavy = [], ""
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", IMPORT_PROBE.format(layer=str(LAYER), path=path)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"},
            ).stdout.split()
            samples.append(float(out[0]))
            heavy = out[1] if len(out) > 1 else ""
        print(
            f"import functions/{function}/app.py  median "
            f"{statistics.median(samples) * 1000:6.0f} ms"
            f"  (min {min(samples) * 1000:.0f})  heavy modules loaded: {heavy or 'none'}"
        )
    print(f"(empty interpreter start: median {statistics.median(baseline) * 1000:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_imports(args.runs)
    bench_latency(args.n)


if __name__ == "__main__":
    main()
