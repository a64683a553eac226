"""docs/architecture.md's diagrams match template.yaml and the state machine definition."""

from __future__ import annotations

import re
from pathlib import Path

from devserver.app_model import build_model
from tools.diagrams import (
    committed_block,
    generated_block,
    state_diagram,
    state_machine_definitions,
)

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "architecture.md"
TEMPLATE = ROOT / "template.yaml"


def _mermaid_blocks(kind: str) -> list[str]:
    blocks = re.findall(r"```mermaid\n(.*?)```", PAGE.read_text(), re.DOTALL)
    return [b for b in blocks if b.startswith(kind)]


def _names(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def test_the_page_holds_the_state_diagram_generated_from_the_definition():
    assert committed_block(PAGE) == generated_block(TEMPLATE), (
        "regenerate: python -m tools.diagrams --write docs/architecture.md"
    )


def test_every_state_of_every_state_machine_is_in_a_state_diagram():
    diagrams = _names("\n".join(_mermaid_blocks("stateDiagram")))
    definitions = state_machine_definitions(TEMPLATE)
    assert definitions, "template.yaml declares no state machine"
    for logical_id, asl in definitions.items():
        missing = set(asl["States"]) - diagrams
        assert not missing, f"{logical_id}: states missing from docs/architecture.md: {missing}"


def test_every_function_of_the_template_is_in_the_flowchart_and_no_other():
    (flowchart,) = _mermaid_blocks("flowchart")
    functions = set(build_model(TEMPLATE).functions)
    drawn = {name for name in _names(flowchart) if name.endswith("Function")}
    assert functions - drawn == set(), "add these functions to the flowchart"
    assert drawn - functions == set(), "the flowchart names functions the template lacks"


SMALL_MACHINE = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.kind", "StringEquals": "Url", "Next": "Work"},
                {"Variable": "$.ready", "BooleanEquals": True, "Next": "Done"},
            ],
            "Default": "Work",
        },
        "Work": {
            "Type": "Task",
            "Catch": [
                {"ErrorEquals": ["States.Timeout"], "Next": "Work"},
                {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
        "Broken": {"Type": "Fail"},
    },
}


def test_state_diagram_draws_choices_catches_and_ends():
    lines = state_diagram(SMALL_MACHINE).splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    state Route <<choice>>" in lines
    assert "    [*] --> Route" in lines
    assert "    Route --> Work: kind = Url" in lines
    assert "    Route --> Done: ready = true" in lines
    assert "    Route --> Work: otherwise" in lines
    assert "    Work --> Done" in lines
    assert "    Work --> Work: States.Timeout" in lines
    assert "    Work --> Broken: any error" in lines
    assert "    Done --> [*]" in lines
    assert "    Broken --> [*]" in lines


def test_choice_states_are_declared_before_any_arrow_uses_them():
    lines = state_diagram(SMALL_MACHINE).splitlines()
    declaration = lines.index("    state Route <<choice>>")
    first_arrow = next(i for i, line in enumerate(lines) if "-->" in line)
    assert declaration < first_arrow
