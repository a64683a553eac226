"""Cold-start import cost of every Lambda handler, next to the floor of what it really needs.

For each ``functions/<name>/app.py`` (run from the repository root):

* ``import``: wall time of importing the handler module in a fresh interpreter (the INIT phase
  minus the runtime's own start), median of ``--runs`` runs;
* ``floor``: the same for only the third-party libraries the handler cannot do without
  (``FLOORS`` below); ``ratio`` = import / floor (target: <= 1.15);
* ``heaviest``: the top-level packages whose modules' own import time (``-X importtime``)
  adds up to the most.

    .venv/bin/python bench/cold_start.py [--runs 5] [--only auth,authorizer] [--markdown]

Lambda's environment is imitated (AWS_LAMBDA_FUNCTION_NAME, region, service name), so Powertools
behaves as it does there (Tracer enabled: aws_xray_sdk is part of the cost). Imports read
bytecode from a cache filled by a warm-up run, as Lambda reads the .pyc files the core layer
ships; ``--no-bytecode`` measures compiling from source instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
# Whether imports read compiled bytecode (the deployed layer ships it); --no-bytecode measures
# compiling every module from source, as a layer without .pyc files costs on every cold start.
BYTECODE = True

# Third-party building blocks (measured together in one interpreter). Tracer() is part of every
# traced handler's floor: in Lambda it loads aws_xray_sdk and patches the installed libraries.
TRACER = 'from aws_lambda_powertools import Tracer; Tracer(patch_modules=("botocore", "httpx"))'
POWERTOOLS_API = [
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "pydantic",
    TRACER,
]
ORM = ["sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "psycopg"]
BATCH = ["aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.metrics", TRACER]
BOTO3 = ["boto3"]
BASIC = ["aws_lambda_powertools.logging", "aws_lambda_powertools.metrics", TRACER]

FLOORS: dict[str, list[str]] = {
    # No database, no boto3: PyJWT + cryptography (Ed25519) + Logger.
    "authorizer": [
        "jwt",
        "cryptography.hazmat.primitives.asymmetric.ed25519",
        "aws_lambda_powertools.logging",
    ],
    # Signature check first; the ORM and boto3 (task tokens, S3) are needed for valid callbacks.
    "freepik_webhook": POWERTOOLS_API + ORM + BOTO3,
    "stripe_webhook": POWERTOOLS_API + ORM + ["stripe"],
    # boto3 on some paths only (S3 presigning, Step Functions, SQS): counted, they need it.
    "videos": POWERTOOLS_API + ORM + BOTO3,
    # The scraper cannot work without its HTTP client and HTML parser.
    "scraping": POWERTOOLS_API + ORM + BOTO3 + ["httpx", "selectolax.lexbor"],
    "public": POWERTOOLS_API + ORM + BOTO3,
    "billing": POWERTOOLS_API + ORM + ["stripe"],
    "auth": POWERTOOLS_API + ORM + ["jwt", "argon2"],
    "account": POWERTOOLS_API + ORM + ["jwt", "argon2"],
    "pipeline_worker": BATCH + ORM + BOTO3,
    "analytics_ingest": BATCH + ORM,
    "cleanup": ["aws_lambda_powertools.logging", "aws_lambda_powertools.tracing", *ORM, *BOTO3],
    "jobs_worker": ["aws_lambda_powertools.logging", "aws_lambda_powertools.tracing", *ORM],
}
DEFAULT_FLOOR = POWERTOOLS_API + ORM

# Optional imports that the dev venv satisfies but the Lambda layer does not ship (httpx loads
# its CLI, rich + pygments + click, when they are installed): hidden, as in Lambda.
_LOCKED = {
    line.split("==")[0].strip().lower()
    for lock in ("layer.txt", "worker.txt")
    for line in (ROOT / "requirements" / lock).read_text().splitlines()
    if "==" in line and not line.startswith("#")
}
NOT_IN_LAMBDA = sorted({"rich", "pygments", "click"} - _LOCKED)

TIMER = """
import sys, time
sys.modules.update(dict.fromkeys({hidden!r}))
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def _env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=f"bench-{name}",
        # aws_xray_sdk checks this: in Lambda its recorder uses a local sampler; elsewhere it
        # builds a botocore X-Ray client for centralised sampling at import (~0.3 s).
        LAMBDA_TASK_ROOT=str(ROOT / "functions" / name),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME=name,
        POWERTOOLS_METRICS_NAMESPACE="EcomVideo",
    )
    if BYTECODE:
        # The core layer ships .pyc files (layers/core/Makefile): a warm-up run fills this
        # cache and the measured runs read it, as Lambda reads the layer's bytecode.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".local" / "bench-pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def _run(code: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _median_import(body: str, paths: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for run in range(runs + 1 if BYTECODE else runs):
        proc = _run(TIMER.format(paths=paths, body=body, hidden=NOT_IN_LAMBDA), env)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1])
        if BYTECODE and run == 0:
            continue  # warm-up: compiles into the bytecode cache
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times) * 1000


def _importtime(stderr: str) -> list[tuple[str, float]]:
    """(module, self ms) of every ``-X importtime`` line."""
    rows = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and line.startswith("import time:") and parts[1].strip().isdigit():
            self_us = parts[0].removeprefix("import time:").strip()
            rows.append((parts[2].strip(), int(self_us) / 1000))
    return rows


def _heaviest(paths: list[str], env: dict[str, str], top: int = 4) -> list[tuple[str, float]]:
    """Top-level packages by the summed self time of their modules (``-X importtime``)."""
    startup = {name for name, _ in _importtime(_run("pass", env, "-X", "importtime").stderr)}
    proc = _run(
        TIMER.format(paths=paths, body="import app", hidden=NOT_IN_LAMBDA), env, "-X", "importtime"
    )
    totals: dict[str, float] = defaultdict(float)
    for name, self_ms in _importtime(proc.stderr):
        if name not in startup and name != "app":
            totals[name.split(".")[0]] += self_ms
    return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:top]


def measure(name: str, runs: int) -> dict[str, object]:
    """Import/floor/ratio/heaviest of one handler."""
    env = _env(name)
    paths = [str(LAYER), str(ROOT / "functions" / name)]
    handler = _median_import("import app", paths, env, runs)
    floor_modules = FLOORS.get(name, DEFAULT_FLOOR)
    body = "\n".join(m if " " in m else f"import {m}" for m in floor_modules)
    floor = _median_import(body, [], env, runs)
    return {
        "name": name,
        "import_ms": handler,
        "floor_ms": floor,
        "ratio": handler / floor if floor else float("nan"),
        "heaviest": _heaviest(paths, env),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated function directories")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile from source (no .pyc), per import"
    )
    args = parser.parse_args(argv)
    global BYTECODE
    BYTECODE = not args.no_bytecode

    names = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
    if args.only:
        names = [n for n in names if n in set(args.only.split(","))]
    if args.markdown:
        print("| handler | import ms | floor ms | ratio | heaviest imports (cumulative ms) |")
        print("|---|---:|---:|---:|---|")
    for name in names:
        row = measure(name, args.runs)  # printed as it comes: a full run takes minutes
        heavy = ", ".join(f"{pkg} {ms:.0f}" for pkg, ms in row["heaviest"])
        cells = (
            row["name"],
            f"{row['import_ms']:.0f}",
            f"{row['floor_ms']:.0f}",
            f"{row['ratio']:.2f}",
            heavy,
        )
        if args.markdown:
            print("| " + " | ".join(cells) + " |", flush=True)
        else:
            print(
                f"{cells[0]:<18} {cells[1]:>7} {cells[2]:>7} {cells[3]:>6}  {cells[4]}", flush=True
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
