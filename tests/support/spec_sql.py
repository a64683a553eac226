"""Parse the DDL in the user's schema spec (docs/spec/database-schema.md) into plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "spec" / "database-schema.md"
SHARED_SPEC_PATH = ROOT.parent / "shared" / "spec" / "database-schema.md"


@dataclass
class SpecColumn:
    name: str
    type: str  # as PostgreSQL's format_type() prints it
    not_null: bool
    default: str | None
    unique: bool
    references: tuple[str, str] | None = None
    on_delete: str = "NO ACTION"


@dataclass
class SpecIndex:
    name: str
    table: str
    columns: list[str]
    unique: bool
    where: str | None


@dataclass
class SpecTable:
    name: str
    columns: dict[str, SpecColumn] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)


_TYPE_MAP = {
    "UUID": "uuid",
    "BOOLEAN": "boolean",
    "TEXT": "text",
    "TEXT[]": "text[]",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "TIMESTAMP": "timestamp without time zone",
    "DATE": "date",
    "JSONB": "jsonb",
    "INET": "inet",
}


def _pg_type(raw: str) -> str:
    raw = raw.upper()
    if m := re.fullmatch(r"VARCHAR\((\d+)\)", raw):
        return f"character varying({m.group(1)})"
    if m := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", raw):
        return f"numeric({m.group(1)},{m.group(2)})"
    return _TYPE_MAP[raw]


def _sql_blocks(text: str) -> list[str]:
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def parse_spec(path: Path = SPEC_PATH) -> tuple[dict[str, SpecTable], list[SpecIndex]]:
    text = path.read_text(encoding="utf-8")
    tables: dict[str, SpecTable] = {}
    indexes: list[SpecIndex] = []
    for block in _sql_blocks(text):
        block = re.sub(r"--[^\n]*", "", block)
        for m in re.finditer(r"CREATE TABLE (\w+) \((.*?)\n\);", block, flags=re.S):
            table = SpecTable(m.group(1))
            for line in m.group(2).split("\n"):
                line = line.strip().rstrip(",")
                if not line:
                    continue
                if line.startswith("PRIMARY KEY"):
                    table.primary_key = [c.strip() for c in line[13:-1].split(",")]
                    continue
                name, rest = line.split(None, 1)
                type_match = re.match(r"(\w+(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?)", rest)
                assert type_match, line
                col = SpecColumn(
                    name=name,
                    type=_pg_type(type_match.group(1)),
                    not_null="NOT NULL" in rest or "PRIMARY KEY" in rest,
                    default=None,
                    unique=" UNIQUE" in f" {rest}",
                )
                if "PRIMARY KEY" in rest:
                    table.primary_key = [name]
                if d := re.search(r"DEFAULT (\S+(?:\(\))?)", rest):
                    col.default = d.group(1)
                if r := re.search(
                    r"REFERENCES (\w+)\((\w+)\)(?: ON DELETE (SET NULL|CASCADE))?", rest
                ):
                    col.references = (r.group(1), r.group(2))
                    col.on_delete = r.group(3) or "NO ACTION"
                table.columns[name] = col
            tables[table.name] = table
        for m in re.finditer(
            r"CREATE (UNIQUE )?INDEX (\w+) ON (\w+)\(([^)]*)\)(?: WHERE ([^;]+))?;", block
        ):
            indexes.append(
                SpecIndex(
                    name=m.group(2),
                    table=m.group(3),
                    columns=[c.strip() for c in m.group(4).split(",")],
                    unique=bool(m.group(1)),
                    where=m.group(5),
                )
            )
    return tables, indexes
