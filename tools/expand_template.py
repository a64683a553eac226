"""Write template.yaml with its Fn::ForEach loops expanded, as JSON, for tools that cannot expand.

checkov (3.3) skips the resources inside ``Fn::ForEach`` without a word, so ``make checkov``
scans this expansion instead: the same one the local stack and the template tests read
(``devserver.cfn.load_template``), with every resource a plain entry of ``Resources``.

    python -m tools.expand_template template.yaml -o .aws-sam/checkov/template.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from devserver.cfn import LANGUAGE_EXTENSIONS, load_template


def expanded(path: str | Path) -> dict:
    """The template with its loops expanded and the (now done) LanguageExtensions transform gone."""
    template = load_template(path)
    transforms = template.get("Transform") or []
    transforms = [transforms] if isinstance(transforms, str) else transforms
    remaining = [name for name in transforms if name != LANGUAGE_EXTENSIONS]
    if not remaining:
        template.pop("Transform", None)
    else:
        template["Transform"] = remaining[0] if len(remaining) == 1 else remaining
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="template.yaml")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = json.dumps(expanded(args.template), indent=1) + "\n"
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
