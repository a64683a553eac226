"""template.yaml after its Fn::ForEach loops are expanded: nothing lost, expanded as AWS does.

The loops (per-function log groups and alarms, DLQ alarms, bucket policies) are expanded by
``devserver.cfn.load_template`` for the local stack, the template tests and ``make checkov``;
cfn-lint (``make validate``) has its own implementation of the same transform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devserver.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BEFORE = Path(__file__).with_name("template_resources_before_issue_19.txt")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _before() -> dict[str, str]:
    lines = BEFORE.read_text(encoding="utf-8").splitlines()
    return dict(line.split() for line in lines if line and not line.startswith("#"))


def test_every_resource_of_the_template_before_the_loops_still_exists_with_its_type(template):
    before = _before()
    assert len(before) == 86
    now = {name: resource["Type"] for name, resource in template["Resources"].items()}
    assert {name: now.get(name) for name in before} == before


def test_no_loop_is_left_unexpanded(template):
    def keys(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [k for k in value if k.startswith("Fn::ForEach")] + [
                k for v in value.values() for k in keys(v)
            ]
        if isinstance(value, list):
            return [k for v in value for k in keys(v)]
        return []

    assert keys(template) == []


def _resolve_maps(value: Any, mappings: dict[str, Any]) -> Any:
    """``Fn::FindInMap`` with literal keys replaced by the mapped value (cfn-lint does so)."""
    if isinstance(value, dict):
        if list(value) == ["Fn::FindInMap"] and all(
            isinstance(a, str) for a in value["Fn::FindInMap"]
        ):
            mapping, top, second = value["Fn::FindInMap"]
            return mappings[mapping][top][second]
        return {k: _resolve_maps(v, mappings) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_maps(v, mappings) for v in value]
    return value


def test_the_local_expansion_matches_cfn_lints_language_extensions(template):
    cfnlint_decode = pytest.importorskip("cfnlint.decode")
    cfnlint_template = pytest.importorskip("cfnlint.template")
    decoded, errors = cfnlint_decode.decode(str(TEMPLATE))
    assert not errors
    linted = cfnlint_template.Template(str(TEMPLATE), decoded, ["us-east-1"])
    assert not linted.transform()
    theirs = json.loads(json.dumps(linted.template["Resources"]))
    mine = _resolve_maps(template["Resources"], template["Mappings"])

    assert sorted(mine) == sorted(theirs)
    # cfn-lint also merges SAM Globals into functions; everything else must be identical.
    for name, resource in mine.items():
        if resource["Type"] != "AWS::Serverless::Function":
            assert resource == theirs[name], name


def test_every_log_group_path_in_the_mapping_names_a_log_group(template):
    groups = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::Logs::LogGroup"}
    assert {f"{name}LogGroup" for name in template["Mappings"]["LogGroups"]} <= groups


def test_checkov_scans_every_expanded_resource_under_the_sam_transform_only(template):
    from tools.expand_template import expanded

    scanned = expanded(TEMPLATE)
    assert scanned["Resources"] == template["Resources"]
    assert scanned["Transform"] == "AWS::Serverless-2016-10-31"
