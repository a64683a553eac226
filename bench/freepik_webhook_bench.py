"""Freepik webhook handler: import cost and throughput.

Prints (1) the import time of functions/freepik_webhook/app.py in a fresh interpreter, and of
the full path after a valid signature (ORM + pipeline), median of 5; (2) deliveries per second
through the real ``lambda_handler`` on local PostgreSQL: rejected (bad signature, no database)
and valid signed deliveries (duplicate check, task lookup, delivery record).

    .venv/bin/python bench/freepik_webhook_bench.py [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]
SECRET = "bench-webhook-secret"  # noqa: S105 - a local benchmark value
os.environ.update(
    {
        "FREEPIK_WEBHOOK_SECRET": SECRET,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EcomVideoBench",
        "POWERTOOLS_SERVICE_NAME": "freepik-webhook-bench",
    }
)
HANDLER = ROOT / "functions" / "freepik_webhook" / "app.py"
IMPORT = (
    "import importlib.util, time; t = time.perf_counter(); "
    f"spec = importlib.util.spec_from_file_location('fw', {str(HANDLER)!r}); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); {extra}"
    "print((time.perf_counter() - t) * 1000)"
)
FULL = "import ecomvideo.services.freepik_webhooks, ecomvideo.services.pipeline; "


def _import_ms(extra: str) -> float:
    env = {**os.environ, "PYTHONPATH": f"{LAYER}{os.pathsep}{ROOT}"}
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", IMPORT.replace("{extra}", extra)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        for _ in range(5)
    ]
    return statistics.median(runs)


def _event(body: bytes, headers: dict[str, str]) -> dict:
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/freepik",
        "rawPath": "/webhooks/freepik",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/freepik"}},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    n = parser.parse_args().n

    print(f"import handler (signature path only):  {_import_ms(''):8.1f} ms (median of 5)")
    print(f"import handler + ORM/pipeline path:    {_import_ms(FULL):8.1f} ms (median of 5)")

    from devserver.events import LambdaContext
    from devserver.pg import scratch_database

    os.environ["DATABASE_URL"] = scratch_database("ecomvideo_bench_freepik")
    import importlib.util

    from ecomvideo.webhooks.signature import sign_freepik_webhook

    spec = importlib.util.spec_from_file_location("fw", HANDLER)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    context = LambdaContext("fw", memory_mb=1024, timeout_s=60, region="us-east-1")

    def deliveries(valid: bool) -> list[dict]:
        out = []
        for i in range(n):
            body = json.dumps({"task_id": f"t-{uuid.uuid4()}", "status": "COMPLETED"}).encode()
            headers = sign_freepik_webhook(
                body, SECRET if valid else "wrong", f"m{i}", int(time.time())
            )
            out.append(_event(body, headers))
        return out

    for label, valid in (("rejected (bad signature)", False), ("valid signed delivery", True)):
        events = deliveries(valid)
        module.lambda_handler(events[0], context)  # warm: first connection, mappers
        started = time.perf_counter()
        statuses = [module.lambda_handler(e, context)["statusCode"] for e in events[1:]]
        elapsed = time.perf_counter() - started
        assert set(statuses) == ({200} if valid else {401}), set(statuses)
        rate = len(statuses) / elapsed
        print(f"{label:28} {rate:8.1f} deliveries/s  {1000 / rate:6.2f} ms each  n={len(statuses)}")


if __name__ == "__main__":
    main()
