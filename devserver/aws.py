"""Moto in this process, and the template's queues, buckets, secrets and state machines in it.

``mock_aws`` with Step Functions execution enabled runs next to a ``ThreadedMotoServer`` in the
same process: the handlers' boto3 calls and the state machine's own SQS ``waitForTaskToken``
tasks then reach one shared backend, and the HTTP server lets curl download presigned S3 URLs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devserver.app_model import AppModel
from devserver.cfn import Resolver, UnresolvableError
from devserver.events import ACCOUNT_ID

log = logging.getLogger("devserver.aws")

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
    "AWS_SESSION_TOKEN": "testing",
}

#: Parameter values the local stack uses instead of the template defaults.
LOCAL_PARAMETERS = {"Stage": "local", "DatabaseSecretArn": ""}


@dataclass
class LocalResources:
    """What ``Ref`` / ``Fn::GetAtt`` return for every resource created locally."""

    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)


def aws_environment(region: str, moto_url: str) -> dict[str, str]:
    """Variables every process and handler of the local stack gets."""
    return {
        **DUMMY_CREDENTIALS,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # Presigned URLs must name an address curl/a browser can reach: the moto server.
        "AWS_ENDPOINT_URL_S3": moto_url,
    }


class MotoStack:
    """``mock_aws`` + ``ThreadedMotoServer`` started together and stopped together."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000) -> None:
        self.host = host
        self.port = port
        self._mock: Any = None
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


def base_refs(model: AppModel, region: str, overrides: dict[str, str] | None = None) -> dict:
    """Parameters (template defaults, then local values, then ``overrides``) + pseudo params."""
    refs: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "ecomvideo-local",
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/ecomvideo-local/1",
    }
    for name, spec in (model.template.get("Parameters") or {}).items():
        refs[name] = (spec or {}).get("Default", "")
    refs.update({k: v for k, v in LOCAL_PARAMETERS.items() if k in refs})
    refs.update(overrides or {})
    return refs


def _name(resolver: Resolver, props: dict[str, Any], key: str, fallback: str) -> str:
    value = props.get(key)
    return str(resolver.resolve(value)) if value is not None else fallback


def plan_resources(model: AppModel, region: str, refs: dict[str, Any]) -> LocalResources:
    """Decide names, ARNs and URLs of every resource without creating anything.

    Functions, layers, log groups and APIs get placeholder values so that environment
    variables referring to them still resolve.
    """
    out = LocalResources(refs=dict(refs))
    resolver = Resolver(model.template, out.refs, out.attrs)
    prefix = "ecomvideo-local"
    for logical_id, resource in model.resources.items():
        kind = resource.get("Type", "")
        props = resource.get("Properties") or {}
        arn_base = f"{region}:{ACCOUNT_ID}"
        if kind == "AWS::SQS::Queue":
            name = _name(resolver, props, "QueueName", f"{prefix}-{logical_id}")
            url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{name}"
            out.refs[logical_id] = url
            out.queue_urls[logical_id] = url
            out.attrs[(logical_id, "Arn")] = f"arn:aws:sqs:{arn_base}:{name}"
            out.attrs[(logical_id, "QueueName")] = name
            out.attrs[(logical_id, "QueueUrl")] = url
        elif kind == "AWS::S3::Bucket":
            name = _name(resolver, props, "BucketName", f"{prefix}-{logical_id}".lower())
            out.refs[logical_id] = name
            out.attrs[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
            out.attrs[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"
            out.attrs[(logical_id, "RegionalDomainName")] = f"{name}.s3.{region}.amazonaws.com"
        elif kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            name = _name(resolver, props, "Name", f"{prefix}-{logical_id}")
            arn = f"arn:aws:states:{arn_base}:stateMachine:{name}"
            out.refs[logical_id] = arn
            out.attrs[(logical_id, "Arn")] = arn
            out.attrs[(logical_id, "Name")] = name
        elif kind == "AWS::SecretsManager::Secret":
            name = _name(resolver, props, "Name", f"{prefix}/{logical_id}")
            # Real ARNs end with a random suffix; moto's do too, fixed up after creation.
            arn = f"arn:aws:secretsmanager:{arn_base}:secret:{name}"
            out.refs[logical_id] = arn
            out.attrs[(logical_id, "Id")] = arn
        elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = _name(resolver, props, "FunctionName", logical_id)
            out.refs[logical_id] = name
            out.attrs[(logical_id, "Arn")] = f"arn:aws:lambda:{arn_base}:function:{name}"
        elif kind in ("AWS::SNS::Topic",):
            name = _name(resolver, props, "TopicName", f"{prefix}-{logical_id}")
            out.refs[logical_id] = f"arn:aws:sns:{arn_base}:{name}"
            out.attrs[(logical_id, "TopicName")] = name
        elif kind == "AWS::Logs::LogGroup":
            name = _name(resolver, props, "LogGroupName", f"/{prefix}/{logical_id}")
            out.refs[logical_id] = name
            out.attrs[(logical_id, "Arn")] = f"arn:aws:logs:{arn_base}:log-group:{name}:*"
        else:
            out.refs.setdefault(logical_id, f"{prefix}-{logical_id}")
            out.attrs.setdefault((logical_id, "Arn"), f"arn:aws:local:{arn_base}:{logical_id}")
    return out


def create_resources(model: AppModel, plan: LocalResources, region: str) -> None:
    """Create the planned queues, buckets, secrets and state machines in moto."""
    import boto3

    resolver = Resolver(model.template, plan.refs, plan.attrs)
    sqs = boto3.client("sqs", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    sfn = boto3.client("stepfunctions", region_name=region)
    secretsmanager = boto3.client("secretsmanager", region_name=region)

    queues = model.resources_of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a RedrivePolicy names its DLQ's ARN, which must exist.
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in (queues[q].get("Properties") or {}))
    for logical_id in ordered:
        props = _safe_resolve(resolver, queues[logical_id].get("Properties") or {}, logical_id)
        attributes = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if key in props:
                attributes[key] = (
                    str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                )
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        name = plan.attrs[(logical_id, "QueueName")]
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        plan.queue_urls[logical_id] = url
        plan.refs[logical_id] = url
        plan.attrs[(logical_id, "QueueUrl")] = url

    for logical_id in model.resources_of_type("AWS::S3::Bucket"):
        name = plan.refs[logical_id]
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})

    for logical_id, resource in model.resources_of_type("AWS::SecretsManager::Secret").items():
        props = _safe_resolve(resolver, resource.get("Properties") or {}, logical_id)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate:
            template = json.loads(generate.get("SecretStringTemplate") or "{}")
            key = generate.get("GenerateStringKey")
            random_value = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
            value = json.dumps({**template, key: random_value}) if key else random_value
        arn = secretsmanager.create_secret(
            Name=str(props.get("Name") or plan.attrs[(logical_id, "Id")].rsplit(":", 1)[1]),
            SecretString=str(value if value is not None else "{}"),
        )["ARN"]
        plan.refs[logical_id] = arn
        plan.attrs[(logical_id, "Id")] = arn

    role = f"arn:aws:iam::{ACCOUNT_ID}:role/ecomvideo-local-states"
    for logical_id, resource in model.resources_of_type(
        "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"
    ).items():
        definition = state_machine_definition(model, resolver, resource)
        sfn.create_state_machine(
            name=plan.attrs[(logical_id, "Name")],
            definition=json.dumps(definition),
            roleArn=role,
            type=str((resource.get("Properties") or {}).get("Type", "STANDARD")),
        )


def state_machine_definition(
    model: AppModel, resolver: Resolver, resource: dict[str, Any]
) -> dict[str, Any]:
    """The ASL of a state machine with ``DefinitionSubstitutions`` applied, as SAM does."""
    props = resource.get("Properties") or {}
    if "DefinitionUri" in props and isinstance(props["DefinitionUri"], str):
        text = (model.root / props["DefinitionUri"]).read_text(encoding="utf-8")
    else:
        text = json.dumps(
            resolver.resolve(props.get("Definition") or props.get("DefinitionString"))
        )
    substitutions = _safe_resolve(resolver, props.get("DefinitionSubstitutions") or {}, "sfn")
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(value))
    return json.loads(text)


def _safe_resolve(resolver: Resolver, value: Any, where: str) -> Any:
    try:
        return resolver.resolve(value)
    except UnresolvableError as exc:
        raise UnresolvableError(f"{where}: {exc}") from exc


def function_environments(
    model: AppModel,
    plan: LocalResources,
    base: dict[str, str],
    process_env: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Each function's variables: ``base`` + Lambda's own + Globals/function (resolved).

    A variable that is a plain ``Ref`` to a parameter left at its template default (no local
    value, no ``--param``) takes the developer's environment when set there: ``PUBLIC_API_URL``
    exported before ``make dev`` must not be blanked by ``PublicApiUrl``'s empty default."""
    resolver = Resolver(model.template, plan.refs, plan.attrs)
    process_env = os.environ if process_env is None else process_env
    defaults = {
        name: (spec or {}).get("Default", "")
        for name, spec in (model.template.get("Parameters") or {}).items()
        if name not in LOCAL_PARAMETERS
    }
    environments = {}
    for logical_id, spec in model.functions.items():
        env = dict(base)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": str(plan.refs.get(logical_id, logical_id)),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                # No X-Ray daemon locally; Powertools would otherwise try to emit segments.
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        for key, value in spec.environment.items():
            try:
                resolved = resolver.resolve(value)
            except UnresolvableError as exc:
                log.warning("%s: %s not set locally (%s)", logical_id, key, exc)
                continue
            env[key] = "" if resolved is None else str(resolved)
            ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
            unset = ref in defaults and plan.refs.get(ref) == defaults[ref]
            if unset and process_env.get(key):
                env[key] = process_env[key]
        environments[logical_id] = env
    return environments


def apply_process_environment(values: dict[str, str]) -> None:
    """Export ``values`` for this process (boto3 clients created by the devserver itself)."""
    os.environ.update(values)
