"""Read a CloudFormation/SAM template and resolve its intrinsic functions locally.

The loader turns the YAML short tags (``!Ref``, ``!GetAtt``, ``!Sub``...) into their long JSON
form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``), so the rest of the local stack only deals
with plain dicts. ``Resolver`` evaluates those against local values (parameters, pseudo
parameters, the moto resources created for the template).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # AWS::NoValue: the enclosing key or list item disappears

_SHORT_TAGS = (
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "And",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "Contains",
    "Length",
    "ToJsonString",
)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's short-form tags."""


def _construct(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if not isinstance(node, yaml.MappingNode):  # YAML has no fourth kind of node
        raise TypeError(f"unexpected YAML node {node.id}")
    return loader.construct_mapping(node, deep=True)


def _fn(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct(node, loader)}

    return construct


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct(node, loader)}


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct(node, loader)}


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):  # !GetAtt Resource.Attribute
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _tag in _SHORT_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _fn(_tag))
_CfnLoader.add_constructor("!Ref", _ref)
_CfnLoader.add_constructor("!GetAtt", _get_att)
_CfnLoader.add_constructor("!Condition", _condition)


LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
_FOR_EACH = "Fn::ForEach::"


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation YAML (or JSON) template into plain Python objects.

    With the ``AWS::LanguageExtensions`` transform its ``Fn::ForEach`` loops come back expanded,
    as CloudFormation expands them before the SAM transform runs.
    """
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a template (top level must be a mapping)")
    transforms = data.get("Transform") or []
    if LANGUAGE_EXTENSIONS in ([transforms] if isinstance(transforms, str) else transforms):
        data = expand_for_each(data)
    return data


def expand_for_each(value: Any) -> Any:
    """``value`` with every ``Fn::ForEach::<Loop>: [Identifier, [items], {Key: Value}]`` expanded.

    Each item yields one copy of the fragment in which ``${Identifier}`` and ``&{Identifier}``
    (the item without its non-alphanumeric characters) are replaced in keys and strings (so
    ``!Sub`` and ``{Ref: !Sub "${Identifier}X"}`` work) and ``{Ref: Identifier}`` becomes the
    item, as the AWS::LanguageExtensions transform does (a ``Fn::Sub`` left without variables
    becomes its string). Loops nest; a key produced twice is an
    error. Collections must be literal lists (the local stack resolves no ``Ref`` to a
    CommaDelimitedList parameter).
    """
    if isinstance(value, list):
        return [expand_for_each(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str) and key.startswith(_FOR_EACH):
            expanded = _loop(key, item)
        else:
            expanded = {key: expand_for_each(item)}
        for out_key, out_value in expanded.items():
            if out_key in out:
                raise ValueError(f"{key}: {out_key} is defined twice")
            out[out_key] = out_value
    return out


def _loop(key: str, spec: Any) -> dict[str, Any]:
    if not (
        isinstance(spec, list)
        and len(spec) == 3
        and isinstance(spec[0], str)
        and isinstance(spec[1], list)
        and isinstance(spec[2], dict)
    ):
        raise ValueError(f"{key}: expected [Identifier, [items...], {{OutputKey: OutputValue}}]")
    identifier, collection, fragment = spec
    out: dict[str, Any] = {}
    for item in collection:
        for out_key, out_value in expand_for_each(
            _substitute(fragment, identifier, str(item))
        ).items():
            if out_key in out:
                raise ValueError(f"{key}: {out_key} is defined twice")
            out[out_key] = out_value
    return out


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, str):
        alphanumeric = re.sub(r"[^0-9A-Za-z]", "", item)
        return value.replace("${" + identifier + "}", item).replace(
            "&{" + identifier + "}", alphanumeric
        )
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        out = {
            _substitute(k, identifier, item): _substitute(v, identifier, item)
            for k, v in value.items()
        }
        sub = out.get("Fn::Sub")
        if len(out) == 1 and isinstance(sub, str) and "${" not in sub:
            return sub  # nothing left to substitute: the plain string, as the transform does
        return out
    return value


class UnresolvableError(ValueError):
    """An intrinsic the local stack cannot evaluate (e.g. Fn::ImportValue)."""


class Resolver:
    """Evaluates intrinsic functions against local values.

    ``refs`` maps a logical id (parameter or resource) to what ``Ref`` returns; ``attrs`` maps
    ``(logical_id, attribute)`` to what ``Fn::GetAtt`` returns.
    """

    _SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")

    def __init__(
        self,
        template: Mapping[str, Any],
        refs: Mapping[str, Any],
        attrs: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        self.template = template
        self.refs = dict(refs)
        self.attrs = dict(attrs or {})
        self._conditions: dict[str, bool] = {}

    # -- public ----------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside ``value`` (dicts and lists are walked)."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref":
                    return self._ref(arg)
                if key.startswith("Fn::") or key == "Condition":
                    return self._fn(key, arg)
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item)
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """Evaluate a named entry of the template's Conditions section."""
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise UnresolvableError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    # -- intrinsics -----------------------------------------------------------------------
    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.refs:
            return self.refs[name]
        raise UnresolvableError(f"Ref {name} has no local value")

    def _get_att(self, arg: Any) -> Any:
        resource, attribute = self.resolve(arg) if isinstance(arg, list) else arg.split(".", 1)
        try:
            return self.attrs[(resource, attribute)]
        except KeyError:
            raise UnresolvableError(f"GetAtt {resource}.{attribute} has no local value") from None

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1])
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name:
                resource, attribute = name.split(".", 1)
                return str(self._get_att([resource, attribute]))
            return str(self._ref(name))

        # ${!Literal} stays as ${Literal}, as in CloudFormation.
        return self._SUB_VAR.sub(replace, text).replace("${!", "${")

    def _fn(self, key: str, arg: Any) -> Any:
        name = key.removeprefix("Fn::")
        if name == "GetAtt":
            return self._get_att(arg)
        if name == "Sub":
            return self._sub(arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "If":
            cond, when_true, when_false = arg
            return self.resolve(when_true if self.condition(cond) else when_false)
        if name == "Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(arg)[0]
        if name == "And":
            return all(self.resolve(arg))
        if name == "Or":
            return any(self.resolve(arg))
        if name == "Join":
            separator, items = arg
            return str(separator).join(str(i) for i in self.resolve(items))
        if name == "Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if name == "Split":
            separator, text = self.resolve(arg)
            return str(text).split(separator)
        if name == "FindInMap":
            mapping, top, second = self.resolve(arg)
            return self.template["Mappings"][mapping][top][second]
        if name == "GetAZs":
            region = self.resolve(arg) or self.refs.get("AWS::Region", "us-east-1")
            return [f"{region}a", f"{region}b", f"{region}c"]
        if name == "Base64":
            import base64

            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if name == "ToJsonString":
            import json

            return json.dumps(self.resolve(arg))
        raise UnresolvableError(f"{key} is not supported by the local stack")
