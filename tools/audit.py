"""Offline known-vulnerability audit of the pinned locks against the PyPA advisory database.

pip-audit needs the PyPI JSON API or OSV; where neither answers (CI that only reaches package
registries), ``make pip-audit`` falls back to this module and a snapshot committed in
``requirements/advisories.json``:

``python -m tools.audit refresh --db <checkout or bare clone of pypa/advisory-database>``
    writes the snapshot: the advisories (OSV, ``vulns/<package>/*.yaml``) of every package pinned
    in ``requirements/*.txt`` (withdrawn ones skipped), plus the source commit and its date.
``python -m tools.audit check <lock> [<lock> ...] [--ignore ID ...]``
    evaluates each ``name==version`` pin with OSV ECOSYSTEM range semantics (``packaging``
    versions) and exits 1 when a finding is not ignored. ``--ignore-vuln`` is an alias, so
    ``PIP_AUDIT_IGNORE`` serves pip-audit and this check alike.

A pinned package the snapshot has no entry for passes only when the advisory database had no
advisory for it at all (the snapshot lists every package name it covers); otherwise the check
fails and asks for a refresh.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "requirements" / "advisories.json"
REFRESH_LOCKS = tuple(
    ROOT / "requirements" / f"{name}.txt" for name in ("layer", "worker", "dev", "sam", "checkov")
)
SOURCE_URL = "https://github.com/pypa/advisory-database"
SUMMARY_CHARS = 160

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\#]+)")


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory_id: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    ignored: bool


# ---------------------------------------------------------------- locks


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(lock: Path) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a lock file."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


# ---------------------------------------------------------------- refresh


def _git(db: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(db), *args], check=True, capture_output=True, text=True
    ).stdout


def _package_dirs(db: Path) -> dict[str, str]:
    """``{normalised name: directory under vulns/}`` at the database's HEAD."""
    names = _git(db, "ls-tree", "--name-only", "HEAD", "vulns/").split()
    return {normalize(path.removeprefix("vulns/")): path for path in names if "/." not in path}


def _summary(doc: dict[str, Any]) -> str:
    text = (doc.get("details") or doc.get("summary") or "").strip()
    return text.splitlines()[0][:SUMMARY_CHARS] if text else ""


def _text(value: Any, advisory: str) -> str:
    """A version string; an unquoted YAML number (``1.10`` read as 1.1) would be wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{advisory}: version {value!r} is not a string in the YAML")
    return value


def _affected(doc: dict[str, Any], package: str) -> list[dict[str, Any]]:
    """The ECOSYSTEM ranges and explicit versions of ``doc`` that concern ``package``."""
    out = []
    adv = doc.get("id", "?")
    for entry in doc.get("affected") or []:
        if normalize((entry.get("package") or {}).get("name", "")) != package:
            continue
        ranges = [
            [{key: _text(value, adv) for key, value in ev.items()} for ev in rng.get("events", [])]
            for rng in entry.get("ranges") or []
            if rng.get("type") == "ECOSYSTEM"
        ]
        versions = [_text(v, adv) for v in entry.get("versions") or []]
        out.append({"ranges": ranges, "versions": versions})
    return out


def advisory_entry(doc: dict[str, Any], package: str) -> dict[str, Any] | None:
    """The snapshot form of one OSV advisory, or None when withdrawn or not about ``package``."""
    if doc.get("withdrawn"):
        return None
    affected = _affected(doc, package)
    if not affected:
        return None
    return {
        "id": doc["id"],
        "aliases": sorted(doc.get("aliases") or []),
        "summary": _summary(doc),
        "affected": affected,
    }


def _advisories(db: Path, directory: str, package: str) -> list[dict[str, Any]]:
    files = _git(db, "ls-tree", "--name-only", "HEAD", f"{directory}/").split()
    entries = []
    for path in sorted(f for f in files if f.endswith((".yaml", ".yml", ".json"))):
        doc = yaml.safe_load(_git(db, "show", f"HEAD:{path}"))
        entry = advisory_entry(doc, package)
        if entry:
            entries.append(entry)
    return sorted(entries, key=lambda entry: entry["id"])


def build_snapshot(db: Path, locks: Iterable[Path]) -> dict[str, Any]:
    """The snapshot of ``db`` (git repository, bare or not) for the packages pinned in ``locks``."""
    commit, date = _git(db, "log", "-1", "--format=%H %cI", "HEAD").split()
    dirs = _package_dirs(db)
    names = sorted({name for lock in locks for name in read_pins(lock)})
    return {
        "source": SOURCE_URL,
        "commit": commit,
        "commit_date": date,
        "database_packages": sorted(dirs),
        "packages": {
            name: _advisories(db, dirs[name], name) if name in dirs else [] for name in names
        },
    }


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def dump_snapshot(snapshot: dict[str, Any]) -> str:
    """Sorted JSON with one advisory per line (short diffs on refresh)."""
    lines = ["{"]
    for key in sorted(k for k in snapshot if k != "packages"):
        lines.append(f" {_compact(key)}: {_compact(snapshot[key])},")
    lines.append(' "packages": {')
    packages = sorted(snapshot["packages"].items())
    for index, (name, advisories) in enumerate(packages):
        comma = "," if index < len(packages) - 1 else ""
        if not advisories:
            lines.append(f"  {_compact(name)}: []{comma}")
            continue
        lines.append(f"  {_compact(name)}: [")
        lines += [f"   {_compact(adv)}," for adv in advisories[:-1]]
        lines += [f"   {_compact(advisories[-1])}", f"  ]{comma}"]
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def write_snapshot(snapshot: dict[str, Any], path: Path) -> None:
    path.write_text(dump_snapshot(snapshot))


# ---------------------------------------------------------------- check


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(version: Version, events: Sequence[dict[str, str]]) -> bool:
    """OSV ECOSYSTEM evaluation: events in version order switch "affected" on and off."""

    def key(event: dict[str, str]) -> Version:
        value = next(iter(event.values()))
        return Version("0") if value == "0" else (_version(value) or Version("0"))

    affected = False
    for event in sorted(events, key=key):
        kind, raw = next(iter(event.items()))
        bound = Version("0") if raw == "0" else _version(raw)
        if bound is None:
            continue
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (
            kind == "last_affected" and version > bound
        ):
            affected = False
    return affected


def is_affected(version: str, affected: Sequence[dict[str, Any]]) -> bool:
    parsed = _version(version)
    for entry in affected:
        listed = entry.get("versions", [])
        if version in listed or (parsed is not None and parsed in _parsed(listed)):
            return True
        if parsed is not None and any(in_range(parsed, events) for events in entry["ranges"]):
            return True
    return False


def _parsed(versions: Iterable[str]) -> set[Version]:
    return {v for v in map(_version, versions) if v is not None}


def fixed_versions(affected: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    fixes = {
        event["fixed"] for e in affected for rng in e["ranges"] for event in rng if "fixed" in event
    }
    return tuple(sorted(fixes, key=lambda v: _version(v) or Version("0")))


def audit(
    pins: dict[str, str], snapshot: dict[str, Any], ignore: Iterable[str] = ()
) -> tuple[list[Finding], list[str]]:
    """(findings, pinned packages the snapshot cannot vouch for) for ``pins``."""
    ignored = set(ignore)
    known = set(snapshot.get("database_packages", []))
    findings: list[Finding] = []
    missing: list[str] = []
    for name, version in sorted(pins.items()):
        advisories = snapshot["packages"].get(name)
        if advisories is None:
            if name in known:
                missing.append(name)
            continue
        for adv in advisories:
            if is_affected(version, adv["affected"]):
                ids = {adv["id"], *adv["aliases"]}
                findings.append(
                    Finding(
                        name,
                        version,
                        adv["id"],
                        tuple(adv["aliases"]),
                        fixed_versions(adv["affected"]),
                        ignored=bool(ids & ignored),
                    )
                )
    return findings, missing


def load_snapshot(path: Path = SNAPSHOT) -> dict[str, Any]:
    return json.loads(path.read_text())


def snapshot_date(snapshot: dict[str, Any]) -> str:
    return snapshot["commit_date"][:10]


def _format(finding: Finding) -> str:
    aliases = ", ".join(finding.aliases) or "-"
    fixed = ", ".join(finding.fixed) or "no fix"
    mark = " (ignored)" if finding.ignored else ""
    return (
        f"  {finding.package}=={finding.version}  {finding.advisory_id}  [{aliases}]  "
        f"fixed in: {fixed}{mark}"
    )


def check(locks: Sequence[Path], ignore: Sequence[str], snapshot_path: Path = SNAPSHOT) -> int:
    """Print the findings of every lock; 1 when one is not ignored or a pin is not covered."""
    snapshot = load_snapshot(snapshot_path)
    date = snapshot_date(snapshot)
    failed = False
    for lock in locks:
        findings, missing = audit(read_pins(lock), snapshot, ignore)
        for finding in findings:
            print(_format(finding))
        for name in missing:
            print(f"  {name}: has advisories but is not in the snapshot; run `make advisories`")
        open_findings = [f for f in findings if not f.ignored]
        failed = failed or bool(open_findings or missing)
        verdict = f"{len(open_findings)} known" if open_findings else "no known"
        print(
            f"{lock}: {verdict} vulnerabilities in the PyPA advisory snapshot of {date} "
            f"(commit {snapshot['commit'][:12]})"
        )
    return 1 if failed else 0


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    refresh = sub.add_parser("refresh", help="rewrite the snapshot from an advisory-database")
    refresh.add_argument("--db", type=Path, required=True, help="checkout or bare clone")
    refresh.add_argument("--out", type=Path, default=SNAPSHOT)
    chk = sub.add_parser("check", help="audit locks against the snapshot")
    chk.add_argument("locks", nargs="+", type=Path)
    chk.add_argument("--ignore", "--ignore-vuln", action="append", default=[], metavar="ID")
    chk.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    date = sub.add_parser("date", help="print the snapshot's date")
    date.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)

    if args.command == "refresh":
        snapshot = build_snapshot(args.db, REFRESH_LOCKS)
        write_snapshot(snapshot, args.out)
        count = sum(len(v) for v in snapshot["packages"].values())
        print(f"{args.out}: {count} advisories, snapshot of {snapshot_date(snapshot)}")
        return 0
    if args.command == "date":
        print(snapshot_date(load_snapshot(args.snapshot)))
        return 0
    return check(args.locks, args.ignore, args.snapshot)


if __name__ == "__main__":
    sys.exit(main())
