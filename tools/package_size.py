"""Lambda's unzipped size limit, checked after ``sam build`` (part of ``make build``).

A function's code plus every layer it uses must stay under 250 MB unzipped (262,144,000
bytes), or the deploy fails late, in CloudFormation. Every function uses the core layer
(template Globals), so each ``.aws-sam/build/*Function`` directory is measured together with
``CoreLayer``. Prints the sizes, warns above 245 MB, exits 1 above the limit. Assets only one
function needs belong in that function's package, not in the layer (the pipeline worker's fonts:
``functions/pipeline_worker/fonts``), so the other functions do not carry them.

    python -m tools.package_size [.aws-sam/build]
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 262_144_000
WARN = 245 * 1024 * 1024
MB = 1024 * 1024


def tree_size(path: Path) -> int:
    """Apparent size of every file under ``path`` (what Lambda counts once unzipped)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    build = Path(args[0] if args else ".aws-sam/build")
    layer = tree_size(build / "CoreLayer")
    worst, worst_name = 0, "none"
    for function in sorted(p for p in build.glob("*Function") if p.is_dir()):
        total = tree_size(function) + layer
        if total > worst:
            worst, worst_name = total, function.name
        if total > LIMIT:
            print(f"{function.name}: {total / MB:.1f} MB with the layer, over Lambda's 250 MB")
            return 1
        if total > WARN:
            print(f"warning: {function.name}: {total / MB:.1f} MB with the layer (limit 250 MB)")
    print(
        f"package sizes: core layer {layer / MB:.1f} MB, largest with it {worst / MB:.1f} MB"
        f" ({worst_name})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
