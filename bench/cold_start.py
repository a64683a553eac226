"""Cold-start import cost of every Lambda handler, next to the floor of what it really needs.

For each ``functions/<name>/app.py`` (run from the repository root):

* ``floor``: wall time of importing only the third-party libraries the handler cannot do
  without, in use (``FLOORS`` below), in a fresh interpreter, median of ``--runs`` runs;
* ``ratio`` (the target: <= 1.15): the median over ``--runs`` interpreters of
  (floor + handler) / floor, the handler's module imported right after its floor in the same
  interpreter, so that the handler's import costs what the floor did not load: our models,
  schemas, services and any library the floor lacks. This is the INIT of the handler over the
  INIT of its libraries, timed seconds apart instead of in two processes: on this VM one
  interpreter's import of the same code takes 0.75-1.35x another's (the host's CPU
  contention, which the guest does not see as steal time), so the ratio of two processes
  moves by +-0.1 between runs while this one repeats within ~0.01 (docs/benchmarks.md,
  docs/decisions.md "Cold start");
* ``all paths``: the same with every lazily exported service loaded as well
  (``ecomvideo.lazy.load_primed()``: what a SnapStart snapshot holds, and the most a first
  request can add to INIT), against the floor of the libraries those paths load;
* ``import``: wall time of importing the handler module in a fresh interpreter (the INIT phase
  minus the runtime's own start), median of the runs;
* ``separate`` (and ``separate CPU``, ``separate, all paths``): the median over the runs of
  import / floor, each imported in its own interpreter in alternating pairs (a run's pair a
  second apart), by wall time and by CPU time (``time.process_time``): the same quantity as
  ``ratio``, shown because it is what a reader would first measure, and how noisy it is here;
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
# Whether imports read compiled bytecode (the deployed layer ships it); --no-bytecode measures
# compiling every module from source, as a layer without .pyc files costs on every cold start.
BYTECODE = True

# Third-party building blocks (measured together in one interpreter). Tracer() is part of every
# traced handler's floor: in Lambda it loads aws_xray_sdk and patches the installed libraries.
TRACER = 'from aws_lambda_powertools import Tracer; Tracer(patch_modules=("botocore", "httpx"))'
# A library's floor is what it costs *in use*, not its package __init__: pydantic and SQLAlchemy
# load most of their machinery on first use (``import pydantic`` is a lazy shim without
# BaseModel; the first mapped class loads the declarative and SQL compiler modules). Each floor
# therefore declares and uses one trivial model, which every handler that uses the library pays
# however few models it has: the ratio measures our models, schemas and services, not the
# libraries' deferred imports. (Until 2026-12-04 the floor was ``import pydantic`` and
# ``import sqlalchemy.orm``: docs/benchmarks.md gives both.)
PYDANTIC_IN_USE = (
    "from pydantic import BaseModel\n"
    "class _Floor(BaseModel):\n    a: int\n"
    "_Floor.model_validate_json('{\"a\": 1}').model_dump_json()"
)
ORM_IN_USE = (
    "from sqlalchemy import Integer, select\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column\n"
    "class _FloorBase(DeclarativeBase): pass\n"
    "class _FloorRow(_FloorBase):\n    __tablename__ = 'floor'\n"
    "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
    "configure_mappers()\n"
    "from sqlalchemy.dialects import postgresql\n"
    "select(_FloorRow).where(_FloorRow.id == 1).compile(dialect=postgresql.dialect())"
)
POWERTOOLS_API = [
    "aws_lambda_powertools.event_handler",
    # enable_validation=True (every API handler): Powertools' OpenAPI validation machinery.
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "pydantic",
    PYDANTIC_IN_USE,
    TRACER,
]
ORM = ["sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "psycopg", ORM_IN_USE]
# Workers: no HTTP validation, but their configuration (ecomvideo.settings) is a pydantic model.
BATCH = [
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.metrics",
    PYDANTIC_IN_USE,
    TRACER,
]
BASIC = ["aws_lambda_powertools.logging", "aws_lambda_powertools.metrics", TRACER]

FLOORS: dict[str, list[str]] = {
    # No database, no boto3: PyJWT + cryptography (Ed25519) + Logger.
    "authorizer": [
        "jwt",
        "cryptography.hazmat.primitives.asymmetric.ed25519",
        "aws_lambda_powertools.logging",
    ],
    # Only what each handler imports at INIT counts: a library a handler defers to the paths
    # that need it (boto3 for S3/SQS/Step Functions, stripe, the ORM behind a webhook's
    # signature check, the scraper's HTML parser) is neither in its import nor in its floor.
    # The "floor-only" column lists packages a floor loads that the handler does not; it must
    # stay empty, or the floor flatters the ratio.
    # Webhooks: the signature is checked before the ORM and boto3 load. Stripe's is checked by
    # the Stripe SDK (``stripe.WebhookSignature``), which the function imports at INIT and
    # cannot do without, as the auth functions cannot do without PyJWT and argon2 (until
    # 2026-12-04 its floor lacked the SDK, whose import, with requests, was ~50 ms of "our"
    # 12 %); Freepik's is a stdlib HMAC.
    "freepik_webhook": [*BASIC, PYDANTIC_IN_USE],
    "stripe_webhook": [*BASIC, PYDANTIC_IN_USE, "stripe"],
    # The scrape queue's SQS entry point is in the same function as the API routes.
    "scraping": POWERTOOLS_API + ORM + ["aws_lambda_powertools.utilities.batch"],
    # Deploy-time migrations: Alembic is the function's job; no HTTP resolver.
    "migrate": [
        *BASIC,
        PYDANTIC_IN_USE,
        *ORM,
        "alembic.command",
        "alembic.config",
        "alembic.runtime.migration",
    ],
    "auth": POWERTOOLS_API + ORM + ["jwt", "argon2"],
    "account": POWERTOOLS_API + ORM + ["jwt", "argon2"],
    # The worker's INIT is the batch processor: each message kind loads its own modules on first
    # use (``services.pipeline`` is a lazy package), so the ORM and the settings model come
    # with the first message ("all paths" counts them).
    "pipeline_worker": [*BASIC, "aws_lambda_powertools.utilities.batch"],
    "analytics_ingest": BATCH + ORM,
    "cleanup": [*BASIC, PYDANTIC_IN_USE, *ORM],
    "jobs_worker": [*BASIC, PYDANTIC_IN_USE, *ORM],
}
DEFAULT_FLOOR = POWERTOOLS_API + ORM
# The floor of "all paths" where the paths load libraries that INIT does not.
ALL_PATHS_FLOORS: dict[str, list[str]] = {"pipeline_worker": BATCH + ORM}

# Optional imports that the dev venv satisfies but the Lambda layer does not ship (httpx loads
# its CLI, rich + pygments + click, when they are installed): hidden, as in Lambda.
_LOCKED = {
    line.split("==")[0].strip().lower()
    for lock in ("layer.txt", "worker.txt")
    for line in (ROOT / "requirements" / lock).read_text().splitlines()
    if "==" in line and not line.startswith("#")
}
NOT_IN_LAMBDA = sorted({"rich", "pygments", "click"} - _LOCKED)

# Every path of the handler loaded: the lazy service packages (``ecomvideo.lazy``) resolved, as
# a SnapStart snapshot holds them and as an environment has them once it has served every route
# or step kind. "ratio" is what INIT costs; "all paths" bounds INIT plus the first request's
# imports of the heaviest route.
ALL_PATHS = "import app\nfrom ecomvideo import lazy\nlazy.load_primed()"

TIMER = """
import sys, time
sys.modules.update(dict.fromkeys({hidden!r}))
sys.path[:0] = {paths!r}
t0, c0 = time.perf_counter(), time.process_time()
{body}
print(time.perf_counter() - t0, time.process_time() - c0)
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


def _import_once(body: str, paths: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one import of ``body`` in a fresh interpreter."""
    proc = _run(TIMER.format(paths=paths, body=body, hidden=NOT_IN_LAMBDA), env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    wall, cpu = proc.stdout.strip().splitlines()[-1].split()
    return float(wall) * 1000, float(cpu) * 1000


def _paired_medians(
    variants: dict[str, tuple[str, list[str]]],
    env: dict[str, str],
    runs: int,
    ratios: dict[str, tuple[str, str]],
) -> dict[str, float]:
    """Median wall and CPU ms of each variant's import (the handler, its floor, ...), and the
    median of each run's ratios (``ratios``: name -> (numerator, denominator) variant).

    The variants alternate (forwards on even runs, backwards on odd ones) and a ratio is taken
    within one run, between imports a second apart: a slow spell of the machine (this VM's
    steal time moves single imports by 10-15 %) weighs on both sides of one ratio, and the
    median of the runs' ratios drops the spells that hit one side only. A warm-up of each
    variant fills the bytecode cache first.
    """
    if BYTECODE:
        for variant in variants.values():
            _import_once(*variant, env)
    samples: dict[str, list[float]] = defaultdict(list)
    order = list(variants.items())
    for run in range(runs):
        this_run: dict[str, float] = {}
        for label, (body, paths) in order if run % 2 == 0 else reversed(order):
            wall, cpu = _import_once(body, paths, env)
            samples[f"{label}_ms"].append(wall)
            samples[f"{label}_cpu_ms"].append(cpu)
            this_run[f"{label}_ms"], this_run[f"{label}_cpu_ms"] = wall, cpu
        for name, (num, den) in ratios.items():
            samples[name].append(this_run[f"{num}_ms"] / this_run[f"{den}_ms"])
            samples[f"{name}_cpu"].append(this_run[f"{num}_cpu_ms"] / this_run[f"{den}_cpu_ms"])
    return {key: statistics.median(values) for key, values in samples.items()}


STACKED = """
import sys, time
sys.modules.update(dict.fromkeys({hidden!r}))
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
{floor}
t1 = time.perf_counter()
{body}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _stacked_ratio(
    floor: str, body: str, paths: list[str], env: dict[str, str], runs: int
) -> float:
    """Median over ``runs`` interpreters of (floor + handler) / floor, both timed in the same
    interpreter one after the other: the handler's import then costs only what the floor did not
    load (our code, and any library the floor lacks), and a slow spell of the machine rarely
    falls between the two halves of one sample, unlike two processes seconds apart."""
    code = STACKED.format(hidden=NOT_IN_LAMBDA, paths=paths, floor=floor, body=body)
    _run(code, env)  # bytecode cache
    ratios = []
    for _ in range(runs):
        proc = _run(code, env)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1])
        floor_s, own_s = (float(x) for x in proc.stdout.split())
        ratios.append((floor_s + own_s) / floor_s)
    return statistics.median(ratios)


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


_PACKAGES = """
import sys
sys.modules.update(dict.fromkeys({hidden!r}))
sys.path[:0] = {paths!r}
{body}
print(" ".join(sorted({{m.split(".")[0] for m, v in sys.modules.items() if v is not None}})))
"""


def _packages(body: str, paths: list[str], env: dict[str, str]) -> set[str]:
    """Top-level non-stdlib packages loaded by ``body``."""
    code = _PACKAGES.format(paths=paths, body=body, hidden=NOT_IN_LAMBDA)
    names = set(_run(code, env).stdout.split())
    return {n for n in names if n not in sys.stdlib_module_names and not n.startswith("_")}


@dataclass(frozen=True)
class Row:
    name: str
    import_ms: float
    floor_ms: float
    import_cpu_ms: float
    floor_cpu_ms: float
    all_ms: float
    ratio: float  # separate processes: median of the runs' import / floor
    cpu_ratio: float
    all_ratio: float  # separate processes: median of the runs' all paths / floor of all paths
    stacked: float  # THE ratio: median of (floor + handler) / floor, timed in one interpreter
    stacked_all: float  # the same with every path loaded
    heaviest: list[tuple[str, float]]
    floor_only: list[str]

    def cells(self) -> tuple[str, ...]:
        return (
            self.name,
            f"{self.floor_ms:.0f}",
            f"{self.stacked:.2f}",
            f"{self.stacked_all:.2f}",
            f"{self.import_ms:.0f}",
            f"{self.ratio:.2f}",
            f"{self.cpu_ratio:.2f}",
            f"{self.all_ratio:.2f}",
            ", ".join(f"{pkg} {ms:.0f}" for pkg, ms in self.heaviest),
            ", ".join(self.floor_only) or "-",
        )


def _body(modules: list[str]) -> str:
    """Python source importing ``modules`` (entries with a space are code, run as they are)."""
    return "\n".join(m if " " in m else f"import {m}" for m in modules)


def measure(name: str, runs: int) -> Row:
    """Import/floor/ratio (wall and CPU)/heaviest of one handler."""
    env = _env(name)
    paths = [str(LAYER), str(ROOT / "functions" / name)]
    floor_modules = FLOORS.get(name, DEFAULT_FLOOR)
    body = _body(floor_modules)
    all_paths_floor = _body(ALL_PATHS_FLOORS.get(name, floor_modules))
    variants = {"import": ("import app", paths), "floor": (body, []), "all": (ALL_PATHS, paths)}
    if name in ALL_PATHS_FLOORS:
        variants["all_floor"] = (all_paths_floor, [])
    all_floor = "all_floor" if "all_floor" in variants else "floor"
    ratios = {"ratio": ("import", "floor"), "all_ratio": ("all", all_floor)}
    times = _paired_medians(variants, env, runs, ratios)
    return Row(
        name=name,
        import_ms=times["import_ms"],
        floor_ms=times["floor_ms"],
        import_cpu_ms=times["import_cpu_ms"],
        floor_cpu_ms=times["floor_cpu_ms"],
        all_ms=times["all_ms"],
        ratio=times["ratio"],
        cpu_ratio=times["ratio_cpu"],
        all_ratio=times["all_ratio"],
        stacked=_stacked_ratio(body, "import app", paths, env, runs),
        stacked_all=_stacked_ratio(all_paths_floor, ALL_PATHS, paths, env, runs),
        heaviest=_heaviest(paths, env),
        floor_only=sorted(_packages(body, [], env) - _packages("import app", paths, env)),
    )


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
        print(
            "| handler | floor ms | ratio | all paths | import ms | separate | separate CPU"
            " | separate, all paths | heaviest imports (self ms) | floor-only |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    else:
        print(
            f"{'handler':<18} {'floor':>7} {'ratio':>6} {'all':>6} {'import':>7}"
            f" {'sep':>6} {'sepCPU':>6} {'sepAll':>6}  heaviest"
        )
    for name in names:
        cells = measure(name, args.runs).cells()  # printed as it comes: a run takes minutes
        if args.markdown:
            print("| " + " | ".join(cells) + " |", flush=True)
        else:
            name_, floor_ms, ratio, all_paths, import_ms, sep, sep_cpu, sep_all = cells[:8]
            heavy, only = cells[8:]
            line = f"{name_:<18} {floor_ms:>7} {ratio:>6} {all_paths:>6} {import_ms:>7}"
            line += f" {sep:>6} {sep_cpu:>6} {sep_all:>6}  {heavy}"
            line += f"  [floor-only: {only}]" if only != "-" else ""
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
