"""Auth latency and cold-import cost.

    .venv/bin/python bench/auth_bench.py [--n 200]

Prints (1) p50/p95/mean of ``POST /v1/auth/login`` and ``POST /v1/auth/refresh`` called
in-process through the real handler (API Gateway v2 events, pydantic validation, argon2id,
PostgreSQL on the project's local server, a scratch database ``ecomvideo_bench``), and (2)
the import time of the auth and authorizer handler modules in a fresh interpreter (median of
several runs), checking that the authorizer pulls in neither SQLAlchemy nor boto3.
Email sending is stubbed (no SES call is timed).

    .venv/bin/python bench/auth_bench.py --enumeration [--n 300]
    .venv/bin/python bench/auth_bench.py --authorizer [--n 200]

Instead times ``forgot-password`` and ``resend-verification`` for a registered address and an
address without an account, interleaved in random order (rate-limit counters cleared, untimed,
before each call), and prints the difference of the medians with a 95% bootstrap interval: the
request path must not tell the two apart (issue 17).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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


def _auth_caller() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """Environment, stubbed SES and the auth handler; returns ``call(path, body)`` giving the
    handler's raw response to a POST from one client IP."""
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
        return dict(auth.lambda_handler(http_event(request, route_key=f"POST {path}"), ctx))

    return call


def bench_latency(n: int) -> None:
    raw = _auth_caller()

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = raw(path, body)
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


def bench_authorizer(n: int) -> None:
    """The Lambda authorizer on a real token: first call (connection + the session query;
    psycopg is already imported here by the auth handler, its import cost is in
    ``bench/cold_start.py``), then per call with the container cache cleared (signature + one
    indexed query) and with it warm (signature only)."""
    call = _auth_caller()
    credentials = {"email": "authorizer.bench@example.com", "password": PASSWORD}
    call("/v1/auth/register", credentials)
    token = json.loads(call("/v1/auth/login", credentials)["body"])["access_token"]
    from devserver.events import HttpRequest, LambdaContext, authorizer_event
    from ecomvideo.security import session_state

    authorizer = _load("authorizer")
    ctx = LambdaContext("authorizer", memory_mb=256, timeout_s=5, region="us-east-1")
    request = HttpRequest("GET", "/v1/me", headers=[("authorization", f"Bearer {token}")])
    event = authorizer_event(request, route_key="GET /v1/me", identity_headers=("authorization",))

    def once() -> float:
        started = time.perf_counter()
        result = authorizer.lambda_handler(event, ctx)
        elapsed = time.perf_counter() - started
        assert result["isAuthorized"] is True, result
        return elapsed

    first = once()
    uncached = []
    for _ in range(n):
        session_state.clear_cache()
        uncached.append(once())
    cached = [once() for _ in range(n)]
    print(f"authorizer first call (connect + query)  {first * 1000:7.1f} ms")
    print(f"authorizer uncached (Ed25519 verify + 1 query)  {_percentiles(uncached)}")
    print(f"authorizer cached   (Ed25519 verify only)       {_percentiles(cached)}")


def _median_diff_ci(a: list[float], b: list[float], rounds: int = 2000) -> tuple[float, float]:
    """95% bootstrap interval of median(a) - median(b)."""
    rng = random.Random(7)
    diffs = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(rounds)
    )
    return diffs[int(rounds * 0.025)], diffs[int(rounds * 0.975)]


def bench_enumeration(n: int) -> None:
    """forgot-password / resend-verification: a registered address against an unknown one,
    interleaved in random order, rate-limit counters cleared (untimed) before each call."""
    call = _auth_caller()
    from sqlalchemy import text

    from ecomvideo import db

    known, unknown = "known.bench@example.com", "nobody.bench@example.com"
    registered = call("/v1/auth/register", {"email": known, "password": PASSWORD})
    assert registered["statusCode"] in (201, 202), registered

    def clear_counters() -> None:
        with db.transaction() as session:
            session.execute(text("DELETE FROM rate_limit_counters"))

    print(f"load average {os.getloadavg()[0]:.1f}")
    for path in ("/v1/auth/forgot-password", "/v1/auth/resend-verification"):
        times: dict[str, list[float]] = {known: [], unknown: []}
        order = [known, unknown] * n
        random.Random(1).shuffle(order)
        for warm in (known, unknown) * 10:
            clear_counters()
            call(path, {"email": warm})
        for email in order:
            clear_counters()
            started = time.perf_counter()
            status = call(path, {"email": email})["statusCode"]
            times[email].append(time.perf_counter() - started)
            assert status == 202, status
        a, b = times[known], times[unknown]
        low, high = _median_diff_ci(a, b)
        diff = statistics.median(a) - statistics.median(b)
        print(
            f"{path:32s} known p50 {statistics.median(a) * 1000:6.2f} ms | unknown p50 "
            f"{statistics.median(b) * 1000:6.2f} ms | median diff {diff * 1000:+.3f} ms "
            f"(95% CI {low * 1000:+.3f} .. {high * 1000:+.3f}), n={len(a)} each"
        )


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
    parser.add_argument(
        "--enumeration",
        action="store_true",
        help="only time forgot-password/resend-verification for known vs unknown addresses",
    )
    parser.add_argument(
        "--authorizer",
        action="store_true",
        help="only time the authorizer (first call, uncached session check, cached)",
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if args.enumeration:
        bench_enumeration(args.n)
        return
    if args.authorizer:
        bench_authorizer(args.n)
        return
    bench_imports(args.runs)
    bench_latency(args.n)


if __name__ == "__main__":
    main()
