"""What the local stack needs to know about ``template.yaml``, read generically.

Nothing here names a particular function, route or queue: adding a function, an HttpApi
route, an SQS event source or a schedule to the template is enough for ``make dev`` to serve it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devserver.cfn import load_template

FUNCTION = "AWS::Serverless::Function"
HTTP_API = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"  # SAM's name for the API of events without ApiId
DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Serverless::Function`` with Globals applied (environment still unresolved)."""

    logical_id: str
    code_dir: Path
    module_file: Path
    handler_name: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]
    layers: list[Any]
    events: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """One HttpApi event: ``method`` is upper case or ``ANY``; ``authorizer`` None is public."""

    method: str
    path: str
    function: str
    authorizer: str | None
    api: str

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda authorizer of an HttpApi; ``function`` None when the template lacks it."""

    name: str
    function: str | None
    identity_headers: tuple[str, ...]
    simple_responses: bool
    payload_version: str


@dataclass(frozen=True)
class SqsSource:
    function: str
    event_name: str
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event_name: str
    expression: str
    input: str | None
    enabled: bool


@dataclass
class AppModel:
    """The parts of the template the local stack serves."""

    root: Path
    template: dict[str, Any]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    authorizers: dict[str, dict[str, AuthorizerSpec]] = field(default_factory=dict)
    cors: dict[str, dict[str, Any]] = field(default_factory=dict)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources") or {}

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def layer_python_dirs(self) -> list[Path]:
        """``<ContentUri>/python`` of every layer in the template (Lambda's /opt/python)."""
        dirs = []
        for resource in self.resources_of_type("AWS::Serverless::LayerVersion").values():
            content = (resource.get("Properties") or {}).get("ContentUri")
            if isinstance(content, str) and (self.root / content / "python").is_dir():
                dirs.append((self.root / content / "python").resolve())
        return dirs


def _logical_id(value: Any) -> str | None:
    """The resource a ``!Ref X`` / ``!GetAtt X.Arn`` / ``!Sub ${X.Arn}`` points at."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt":
            return arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) else arg
            inner = str(text).partition("${")[2].partition("}")[0]
            return inner.split(".", 1)[0] or None
    return None


def _merge_globals(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals semantics: maps merge (function wins), lists concatenate, scalars override."""
    merged = dict(globals_)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def _function_spec(root: Path, logical_id: str, props: dict[str, Any]) -> FunctionSpec:
    code_dir = (root / str(props.get("CodeUri", "."))).resolve()
    handler = str(props.get("Handler", "app.lambda_handler"))
    module_path, _, handler_name = handler.rpartition(".")
    module_file = code_dir / (module_path.replace(".", "/") + ".py")
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=code_dir,
        module_file=module_file,
        handler_name=handler_name,
        timeout=int(props.get("Timeout", 3)),
        memory_size=int(props.get("MemorySize", 128)),
        environment=dict((props.get("Environment") or {}).get("Variables") or {}),
        layers=list(props.get("Layers") or []),
        events=dict(props.get("Events") or {}),
    )


def _api_authorizers(api_props: dict[str, Any]) -> dict[str, AuthorizerSpec]:
    auth = api_props.get("Auth") or {}
    out = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        identity = (spec.get("Identity") or {}).get("Headers") or []
        out[name] = AuthorizerSpec(
            name=name,
            function=_logical_id(spec.get("FunctionArn")),
            identity_headers=tuple(str(h).lower() for h in identity),
            simple_responses=bool(spec.get("EnableSimpleResponses", False)),
            payload_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
        )
    return out


def build_model(template_path: str | Path) -> AppModel:
    """Read ``template_path`` into routes, functions, authorizers and event sources."""
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    model = AppModel(root=template_path.parent, template=template)
    globals_ = template.get("Globals") or {}
    function_globals = globals_.get("Function") or {}

    apis: dict[str, dict[str, Any]] = {
        IMPLICIT_HTTP_API: dict(globals_.get("HttpApi") or {}),
    }
    for logical_id, resource in model.resources_of_type(HTTP_API).items():
        apis[logical_id] = _merge_globals(
            globals_.get("HttpApi") or {}, resource.get("Properties") or {}
        )
    for api_id, props in apis.items():
        model.authorizers[api_id] = _api_authorizers(props)
        model.cors[api_id] = props.get("CorsConfiguration") or {}

    for logical_id, resource in model.resources_of_type(FUNCTION).items():
        props = _merge_globals(function_globals, resource.get("Properties") or {})
        spec = _function_spec(model.root, logical_id, props)
        model.functions[logical_id] = spec
        for event_name, event in spec.events.items():
            _add_event(model, apis, logical_id, event_name, event)
    return model


def _add_event(
    model: AppModel,
    apis: dict[str, dict[str, Any]],
    function: str,
    event_name: str,
    event: dict[str, Any],
) -> None:
    kind = event.get("Type")
    props = event.get("Properties") or {}
    if kind == "HttpApi":
        api = _logical_id(props.get("ApiId")) or IMPLICIT_HTTP_API
        path = str(props.get("Path", DEFAULT_ROUTE))
        method = str(props.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        auth = props.get("Auth") or {}
        authorizer = auth.get("Authorizer")
        if authorizer is None:
            authorizer = (apis.get(api, {}).get("Auth") or {}).get("DefaultAuthorizer")
        if authorizer == "NONE":
            authorizer = None
        model.routes.append(Route(method, path, function, authorizer, api))
    elif kind == "SQS":
        queue = _logical_id(props.get("Queue"))
        if queue:
            model.sqs_sources.append(
                SqsSource(
                    function=function,
                    event_name=event_name,
                    queue=queue,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                )
            )
    elif kind in ("Schedule", "ScheduleV2"):
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        state = props.get("State", "ENABLED")
        enabled = bool(props.get("Enabled", True)) and state != "DISABLED"
        raw_input = props.get("Input")
        model.schedules.append(
            ScheduleSource(
                function=function,
                event_name=event_name,
                expression=str(expression),
                input=raw_input if isinstance(raw_input, str) else None,
                enabled=enabled,
            )
        )
