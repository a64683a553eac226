"""Extraction speed over the saved-page corpus: per-page p50/p95 and pages per second.

Usage: .venv/bin/python bench/scraping_bench.py [--repeat N]
(run from the repository root; no network is used).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
sys.path.insert(0, str(ROOT))

from ecomvideo.scraping import NotAProductPage, extract_product  # noqa: E402
from tests.unit.scraping.test_extract_corpus import CASES, NON_PRODUCT_PAGES, PAGES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    pages = [(c.page, c.url) for c in CASES] + [(p, u) for p, u, _ in NON_PRODUCT_PAGES]
    bodies = [((PAGES / name).read_bytes(), url, name) for name, url in pages]
    per_page: dict[str, list[float]] = {name: [] for _, _, name in bodies}
    all_times: list[float] = []
    started = time.perf_counter()
    for _ in range(args.repeat):
        for body, url, name in bodies:
            ctype = "application/json" if name.endswith(".json") else "text/html"
            t0 = time.perf_counter()
            with contextlib.suppress(NotAProductPage):
                extract_product(body, url, content_type=ctype)
            elapsed = (time.perf_counter() - t0) * 1000
            per_page[name].append(elapsed)
            all_times.append(elapsed)
    total = time.perf_counter() - started

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    print(f"corpus: {len(bodies)} pages x {args.repeat} repeats = {len(all_times)} extractions")
    print(f"{'page':32} {'KiB':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for body, _, name in bodies:
        times = per_page[name]
        print(f"{name:32} {len(body) / 1024:6.1f} {pct(times, 0.5):8.3f} {pct(times, 0.95):8.3f}")
    print(
        f"all pages: p50 {pct(all_times, 0.5):.3f} ms, p95 {pct(all_times, 0.95):.3f} ms, "
        f"mean {statistics.fmean(all_times):.3f} ms"
    )
    print(f"throughput: {len(all_times) / total:.0f} pages/second (single thread)")


if __name__ == "__main__":
    main()
