"""The offline vulnerability audit (tools.audit) and the committed advisory snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import audit

ROOT = Path(__file__).resolve().parents[3]
LAMBDA_LOCKS = [ROOT / "requirements" / "layer.txt", ROOT / "requirements" / "worker.txt"]


def _advisory(adv_id: str, ranges: list, versions: list | None = None, aliases=()) -> dict:
    return {
        "id": adv_id,
        "aliases": list(aliases),
        "summary": "test advisory",
        "affected": [{"ranges": ranges, "versions": versions or []}],
    }


SNAPSHOT = {
    "source": "https://github.com/pypa/advisory-database",
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "commit_date": "2024-10-10T17:35:05+00:00",
    "database_packages": ["fakepkg", "lastpkg", "listpkg", "unvendored"],
    "packages": {
        "fakepkg": [
            _advisory(
                "PYSEC-0000-1",
                [[{"introduced": "0"}, {"fixed": "2.0"}]],
                aliases=["CVE-0000-0001", "GHSA-xxxx-yyyy-zzzz"],
            )
        ],
        "lastpkg": [_advisory("PYSEC-0000-2", [[{"introduced": "1.0"}, {"last_affected": "1.5"}]])],
        "listpkg": [_advisory("PYSEC-0000-3", [], versions=["0.3", "0.4.1"])],
        "cleanpkg": [],
    },
}


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps(SNAPSHOT))
    return path


def _ids(pins: dict[str, str], ignore=()) -> list[str]:
    findings, _ = audit.audit(pins, SNAPSHOT, ignore)
    return [f.advisory_id for f in findings if not f.ignored]


def test_fixed_range_flags_versions_below_the_fix_only():
    assert _ids({"fakepkg": "1.9"}) == ["PYSEC-0000-1"]
    assert _ids({"fakepkg": "0.0.1"}) == ["PYSEC-0000-1"]
    assert _ids({"fakepkg": "2.0"}) == []
    assert _ids({"fakepkg": "2.0.1"}) == []


def test_last_affected_is_inclusive_and_introduced_is_respected():
    assert _ids({"lastpkg": "1.5"}) == ["PYSEC-0000-2"]
    assert _ids({"lastpkg": "1.0"}) == ["PYSEC-0000-2"]
    assert _ids({"lastpkg": "1.5.1"}) == []
    assert _ids({"lastpkg": "0.9"}) == []


def test_explicit_versions_are_matched_as_versions():
    assert _ids({"listpkg": "0.3"}) == ["PYSEC-0000-3"]
    assert _ids({"listpkg": "0.3.0"}) == ["PYSEC-0000-3"]  # same version, other spelling
    assert _ids({"listpkg": "0.4"}) == []


def test_range_reopened_after_a_fix():
    events = [{"introduced": "0"}, {"fixed": "1.1"}, {"introduced": "2.0"}, {"fixed": "2.3"}]
    flagged = [
        v
        for v in ("1.0", "1.1", "1.9", "2.0", "2.2", "2.3")
        if audit.in_range(audit.Version(v), events)
    ]
    assert flagged == ["1.0", "2.0", "2.2"]


def test_ignore_matches_the_id_or_an_alias():
    assert _ids({"fakepkg": "1.0"}, ignore=["PYSEC-0000-1"]) == []
    assert _ids({"fakepkg": "1.0"}, ignore=["CVE-0000-0001"]) == []
    assert _ids({"fakepkg": "1.0"}, ignore=["CVE-9999-9999"]) == ["PYSEC-0000-1"]


def test_finding_reports_aliases_and_fixed_version():
    (finding,), _ = audit.audit({"fakepkg": "1.0"}, SNAPSHOT)
    assert finding.aliases == ("CVE-0000-0001", "GHSA-xxxx-yyyy-zzzz")
    assert finding.fixed == ("2.0",)


def test_package_with_advisories_but_not_vendored_is_not_silently_passed():
    findings, missing = audit.audit({"unvendored": "1.0", "neveradvised": "1.0"}, SNAPSHOT)
    assert findings == []
    assert missing == ["unvendored"]


def test_read_pins_normalises_names_and_skips_comments(tmp_path: Path):
    lock = tmp_path / "x.txt"
    lock.write_text(
        "# header\nFoo_Bar.baz==1.2.3\n    # via -r x.in\nmoto[server]==5.0 ; python_version>'3'\n"
    )
    assert audit.read_pins(lock) == {"foo-bar-baz": "1.2.3", "moto": "5.0"}


def test_check_exit_codes_and_output(tmp_path: Path, snapshot_file: Path, capsys):
    vulnerable = tmp_path / "vulnerable.txt"
    vulnerable.write_text("fakepkg==1.9\ncleanpkg==1.0\n")
    clean = tmp_path / "clean.txt"
    clean.write_text("fakepkg==2.0\ncleanpkg==1.0\n")
    args = ["--snapshot", str(snapshot_file)]

    assert audit.main(["check", str(vulnerable), *args]) == 1
    out = capsys.readouterr().out
    assert "fakepkg==1.9" in out and "PYSEC-0000-1" in out and "fixed in: 2.0" in out
    assert "2024-10-10" in out

    assert audit.main(["check", str(clean), *args]) == 0
    assert audit.main(["check", str(clean), str(vulnerable), *args]) == 1
    assert audit.main(["check", str(vulnerable), "--ignore", "PYSEC-0000-1", *args]) == 0
    # PIP_AUDIT_IGNORE holds pip-audit's spelling; the offline check accepts it unchanged.
    ignore_alias = ["--ignore-vuln", "GHSA-xxxx-yyyy-zzzz"]
    assert audit.main(["check", str(vulnerable), *ignore_alias, *args]) == 0


def test_withdrawn_and_foreign_advisories_are_dropped():
    doc = {
        "id": "PYSEC-0000-9",
        "details": "first line\nsecond",
        "affected": [
            {
                "package": {"name": "Other_Pkg", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]},
                ],
            }
        ],
    }
    entry = audit.advisory_entry(doc, "other-pkg")
    assert entry is not None
    assert entry["summary"] == "first line"
    assert entry["affected"] == [
        {"ranges": [[{"introduced": "0"}, {"fixed": "1.0"}]], "versions": []}
    ]
    assert audit.advisory_entry(doc, "fakepkg") is None
    assert audit.advisory_entry({**doc, "withdrawn": "2024-01-01T00:00:00Z"}, "other-pkg") is None


# ---------------------------------------------------------------- the committed snapshot


def test_committed_snapshot_covers_every_lambda_pin():
    snapshot = audit.load_snapshot()
    assert snapshot["source"] == "https://github.com/pypa/advisory-database"
    assert len(snapshot["commit"]) == 40
    for lock in LAMBDA_LOCKS:
        pins = audit.read_pins(lock)
        assert pins, lock
        missing = sorted(set(pins) - set(snapshot["packages"]))
        assert not missing, f"{lock.name}: {missing} not in advisories.json; run make advisories"


def test_committed_snapshot_is_in_canonical_form():
    """Refresh output is deterministic; a hand edit or a stale format shows up here."""
    text = audit.SNAPSHOT.read_text()
    assert audit.dump_snapshot(json.loads(text)) == text


def test_lambda_locks_have_no_known_vulnerability_in_the_snapshot():
    snapshot = audit.load_snapshot()
    for lock in LAMBDA_LOCKS:
        findings, missing = audit.audit(audit.read_pins(lock), snapshot)
        assert (findings, missing) == ([], []), lock


def test_unquoted_yaml_number_is_refused():
    doc = {
        "id": "PYSEC-0000-8",
        "affected": [
            {
                "package": {"name": "fakepkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": 1.1}]}],
            }
        ],
    }
    with pytest.raises(ValueError, match="PYSEC-0000-8"):
        audit.advisory_entry(doc, "fakepkg")
