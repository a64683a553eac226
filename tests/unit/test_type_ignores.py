"""Every ``# type: ignore`` names the error it silences and says why (``# type:
ignore[code]  # reason``), so a reader can judge it and mypy's fix-it does not hide a new one."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIRS = ("layers", "functions", "devserver", "tools", "bench", "tests", "migrations")
IGNORE = re.compile(r"type:\s*ignore")
EXPLAINED = re.compile(r"type:\s*ignore\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def _ignores() -> list[tuple[str, int, str]]:
    found = []
    for directory in DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if "type:" not in source:
                continue
            for tok in tokenize.generate_tokens(io.StringIO(source).readline):
                if tok.type == tokenize.COMMENT and IGNORE.search(tok.string):
                    found.append((str(path.relative_to(ROOT)), tok.start[0], tok.string))
    return found


def test_every_type_ignore_names_its_error_code_and_a_reason():
    unexplained = [f"{p}:{line}: {c}" for p, line, c in _ignores() if not EXPLAINED.search(c)]
    assert unexplained == []


def test_the_rule_tells_explained_from_bare_ignores():
    assert EXPLAINED.search("# type: ignore[import-not-found]  # optional, no stubs")
    assert not EXPLAINED.search("# type: ignore")
    assert not EXPLAINED.search("# type: ignore[arg-type]")
    assert not EXPLAINED.search("# type: ignore  # because")
