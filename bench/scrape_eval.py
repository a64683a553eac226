"""Extraction accuracy on the shared product-page corpus (real shop pages), scored by its score.py.

Usage: .venv/bin/python bench/scrape_eval.py [--corpus DIR] [--out DIR] [--show-errors]
(or ``make scrape-eval``; run from the repository root; no network is used).

The corpus (``../shared/corpus/product-pages``: gzip DOM snapshots, ground-truth.json, score.py)
is third-party content kept OUTSIDE this repository; without it the script prints why and exits 0.
Predictions are written to ``.local/scrape-eval/predictions.json`` (git-ignored) in the scorer's
list format, then ``score.py --fill-instock --normalize-availability`` prints the F1 table; the
script adds the pages refused as "not a product page" and p50/p95 milliseconds per page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))

from ecomvideo.scraping import NotAProductPage, extract_product  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "product-pages"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def predict(
    corpus: Path,
) -> tuple[list[dict[str, object]], list[float], list[float], list[str]]:
    """Run extract_product on every corpus page: (prediction records, wall ms per page,
    CPU ms per page, refused ids). CPU time is the fair number on a shared, loaded machine."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf8"))
    records: list[dict[str, object]] = []
    times: list[float] = []
    cpu: list[float] = []
    refused: list[str] = []
    for page_id, gt in truth.items():
        with gzip.open(corpus / "pages" / f"{page_id}.html.gz", "rb") as fh:
            body = fh.read()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            product = extract_product(body, gt["url"], content_type="text/html; charset=utf-8")
        except NotAProductPage as exc:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            refused.append(f"{page_id} ({exc.message})")
            records.append({"id": page_id})
            continue
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        availability = product.availability.value
        records.append(
            {
                "id": page_id,
                "price": str(product.price) if product.price is not None else None,
                "sku": product.sku,
                # Unknown is "nothing predicted"; the scorer's --fill-instock counts it InStock.
                "availability": None if availability == "Unknown" else availability,
                "brand": product.brand,
                "currency": product.currency,
                "name": product.name,
            }
        )
    return records, times, cpu, refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "scrape-eval")
    parser.add_argument("--show-errors", action="store_true", help="pass --show-errors to score.py")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "ground-truth.json").is_file() or not (corpus / "score.py").is_file():
        print(f"scrape-eval skipped: no product-page corpus at {corpus} (needs ground-truth.json)")
        return 0
    records, times, cpu, refused = predict(corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "predictions.json"
    out.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf8")
    cmd = [sys.executable, str(corpus / "score.py"), str(out), "--ground-truth"]
    cmd += [str(corpus / "ground-truth.json"), "--fill-instock", "--normalize-availability"]
    if args.show_errors:
        cmd.append("--show-errors")
    score = subprocess.run(cmd, check=False)
    print(f"refused as not a product page: {len(refused)} of {len(records)}")
    for line in refused:
        print(f"  {line}")
    print(
        f"extraction time per page: p50 {_pct(times, 0.5):.1f} ms, p95 {_pct(times, 0.95):.1f} ms, "
        f"mean {statistics.fmean(times):.1f} ms ({len(times)} pages)"
    )
    print(
        f"CPU time per page:        p50 {_pct(cpu, 0.5):.1f} ms, p95 {_pct(cpu, 0.95):.1f} ms, "
        f"mean {statistics.fmean(cpu):.1f} ms (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"predictions: {out}")
    return score.returncode


if __name__ == "__main__":
    sys.exit(main())
