"""Interleaved cold-start A/B: a function's import time from another checkout (``--base``, e.g.
an earlier commit unpacked with ``git archive``) and from this one, next to the floor.

    git archive <commit> | tar -x -C /tmp/base
    .venv/bin/python bench/cold_start_ab.py --base /tmp/base --runs 5 health account videos

Each round imports base, this checkout and the floor once, in that order, so a machine whose
load drifts (shared CI runners) affects all three alike; medians of ``--runs`` rounds after a
warm-up round (bytecode caches). Same environment and floors as ``bench/cold_start.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cold_start as cs

ROOT = cs.ROOT


def _once(root: Path, function: str, body: str, paths: list[str]) -> float:
    env = cs._env(function)
    env["PYTHONPYCACHEPREFIX"] = str(root / ".local" / "bench-pycache")
    env["LAMBDA_TASK_ROOT"] = str(root / "functions" / function)
    code = cs.TIMER.format(paths=paths, body=body, hidden=cs.NOT_IN_LAMBDA)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True
    )
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def measure(base: Path, function: str, runs: int) -> dict[str, float]:
    floor = "\n".join(
        m if " " in m else f"import {m}" for m in cs.FLOORS.get(function, cs.DEFAULT_FLOOR)
    )
    times: dict[str, list[float]] = {"base": [], "new": [], "floor": []}
    for round_ in range(runs + 1):
        sample = {
            root_name: _once(
                root,
                function,
                "import app",
                [str(root / "layers/core/python"), str(root / "functions" / function)],
            )
            for root_name, root in (("base", base), ("new", ROOT))
        }
        sample["floor"] = _once(ROOT, function, floor, [])
        if round_:  # the first round fills the bytecode caches
            for key, value in sample.items():
                times[key].append(value)
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args()
    print("| handler | base ms | this ms | floor ms | base ratio | this ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for function in args.functions:
        m = measure(args.base, function, args.runs)
        print(
            f"| {function} | {m['base']:.0f} | {m['new']:.0f} | {m['floor']:.0f} "
            f"| {m['base'] / m['floor']:.2f} | {m['new'] / m['floor']:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
