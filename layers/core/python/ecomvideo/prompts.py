"""Template prompts: ``{name}`` placeholders, listed (the catalogue's API) and filled (a video).

They are filled by a regular expression, never by ``str.format`` (which would let a template
reach attributes like ``{x.__class__}``); values are stripped of control characters and braces
so a value cannot inject another placeholder. Apart from the catalogue's schemas and services
so that making a video does not import the catalogue's API models.
"""

from __future__ import annotations

import re

from ecomvideo.errors import ValidationFailed, field_error

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,49})\}")
_UNSAFE_VALUE = re.compile(r"[\x00-\x1f\x7f{}]")


def template_variables(prompt_template: str) -> list[str]:
    """Placeholder names (``{product_name}``) of a prompt template, in order of appearance."""
    seen: dict[str, None] = {}
    for name in PLACEHOLDER.findall(prompt_template):
        seen.setdefault(name, None)
    return list(seen)


def render_prompt(prompt_template: str, variables: dict[str, str]) -> str:
    """Fill ``{name}`` placeholders; raises ValidationFailed (422) listing missing variables."""
    missing = [name for name in template_variables(prompt_template) if not variables.get(name)]
    if missing:
        raise ValidationFailed(
            "The template needs values for: " + ", ".join(missing) + ".",
            errors=[
                field_error(f"/variables/{name}", "required by the template", "missing")
                for name in missing
            ],
        )

    def fill(match: re.Match[str]) -> str:
        return _UNSAFE_VALUE.sub(" ", variables[match.group(1)]).strip()

    return PLACEHOLDER.sub(fill, prompt_template)
