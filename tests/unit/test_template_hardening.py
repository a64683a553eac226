"""Structural guards on template.yaml that checkov does not cover: new resources stay hardened.

Each test names the rule a new function/queue/bucket must follow (see the alarms section of the
template for the pattern to copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devserver.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return load_template(ROOT / "template.yaml")["Resources"]


def _of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _refs(value: Any) -> set[str]:
    """Logical ids referenced anywhere in ``value`` (Ref / GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            else:
                found |= _refs(arg)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _alarm_targets(resources: dict[str, dict[str, Any]], metric: str) -> set[str]:
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm").values()
    targets: set[str] = set()
    for alarm in alarms:
        props = alarm["Properties"]
        if props.get("MetricName") == metric:
            assert _refs(props["AlarmActions"]) == {"AlertsTopic"}
            targets |= _refs(props.get("Dimensions", []))
    return targets


def test_every_function_has_its_own_log_group_and_an_errors_alarm(resources):
    functions = _of_type(resources, "AWS::Serverless::Function")
    assert len(functions) > 10
    alarmed = _alarm_targets(resources, "Errors")
    for name, function in functions.items():
        log_group = _refs(function["Properties"].get("LoggingConfig", {}))
        assert log_group, f"{name}: no LoggingConfig.LogGroup (retention)"
        (group,) = log_group
        assert group in resources, f"{group}: add it to the LogGroups mapping and loop"
        assert "RetentionInDays" in resources[group]["Properties"], group
        assert name in alarmed, f"{name}: add its name to the FunctionErrorsAlarms loop"


def test_every_log_group_has_retention(resources):
    for name, group in _of_type(resources, "AWS::Logs::LogGroup").items():
        assert group["Properties"].get("RetentionInDays"), name


def test_every_queue_is_encrypted_and_every_work_queue_has_an_alarmed_dlq(resources):
    queues = _of_type(resources, "AWS::SQS::Queue")
    dlqs = {name for name in queues if name.endswith("Dlq")}
    assert dlqs
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
        if name not in dlqs:
            target = _refs(props["RedrivePolicy"])
            assert target <= dlqs and target, f"{name}: RedrivePolicy to a <Name>Dlq"
    assert dlqs <= _alarm_targets(resources, "ApproximateNumberOfMessagesVisible")


def test_buckets_are_private_encrypted_and_tls_only(resources):
    buckets = _of_type(resources, "AWS::S3::Bucket")
    policies = _of_type(resources, "AWS::S3::BucketPolicy").values()
    tls_only = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false":
                assert statement["Effect"] == "Deny"
                tls_only |= _refs(policy["Properties"]["Bucket"])
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert all(props["PublicAccessBlockConfiguration"].values()), name
        assert name in tls_only, f"{name}: add a TLS-only bucket policy"


def test_wildcard_resources_only_for_actions_without_resource_level_permissions(resources):
    allowed = {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        # Vended log delivery of the state machine.
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
    kinds = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
    checked = 0
    for name, resource in resources.items():
        if resource["Type"] not in kinds:
            continue
        for policy in resource["Properties"].get("Policies", []):
            if isinstance(policy, str):
                pytest.fail(f"{name}: managed policy {policy} (use a policy template)")
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                checked += 1
                if statement["Resource"] == "*":
                    actions = statement["Action"]
                    actions = [actions] if isinstance(actions, str) else actions
                    assert set(actions) <= allowed, f"{name}: {actions} on *"
    assert checked


def test_failures_that_cost_money_alarm(resources):
    metrics = {
        a["Properties"]["MetricName"]
        for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
    }
    assert {"ExecutionsFailed", "Throttles", "FreepikOutOfCredits"} <= metrics


# Event sources that invoke a function asynchronously (a failed event is retried, then lost
# unless the function has a DeadLetterQueue or an on-failure destination).
_ASYNC_EVENTS = {"Schedule", "ScheduleV2", "S3", "SNS", "EventBridgeRule", "CloudWatchEvent"}


def test_asynchronously_invoked_functions_keep_failed_events(resources):
    """Why .checkov.yaml may skip CKV_AWS_116 for every function: this test enforces the rule."""
    checked = 0
    for name, function in _of_type(resources, "AWS::Serverless::Function").items():
        props = function["Properties"]
        kinds = {event["Type"] for event in props.get("Events", {}).values()}
        if kinds & _ASYNC_EVENTS:
            checked += 1
            on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {})
            assert props.get("DeadLetterQueue") or on_failure.get("OnFailure"), (
                f"{name}: asynchronous events need a DeadLetterQueue"
            )
    assert checked


def test_every_sqs_event_source_caps_its_concurrency(resources):
    """Why .checkov.yaml may skip CKV_AWS_115: queue consumers are bounded at the source."""
    checked = 0
    for name, function in _of_type(resources, "AWS::Serverless::Function").items():
        for event_name, event in function["Properties"].get("Events", {}).items():
            if event["Type"] == "SQS":
                checked += 1
                scaling = event["Properties"].get("ScalingConfig", {})
                assert scaling.get("MaximumConcurrency"), f"{name}.{event_name}"
    assert checked


# Functions whose own code path calls SES SendEmail. Every other one only enqueues mail jobs
# (tests/integration/auth/test_mail_from_the_queue.py shows it for Auth and Account,
# tests/integration/billing/test_billing_stories.py for the Stripe webhook).
SES_SENDERS = {
    # Drains background_jobs: auth.email (verify, reset, locked, already registered),
    # billing.email (payment failed, trial ending) and notification.email jobs are sent here.
    "JobsWorkerFunction",
}


def _grants_ses(policy: Any) -> bool:
    if isinstance(policy, dict) and "Fn::If" in policy:
        return any(_grants_ses(branch) for branch in policy["Fn::If"][1:])
    if not isinstance(policy, dict):
        return False
    if any(key.startswith("SES") for key in policy):
        return True
    for statement in policy.get("Statement", []):
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if any(action.lower().startswith("ses:") for action in actions):
            return True
    return False


def test_only_functions_that_send_mail_themselves_may_use_ses(resources):
    functions = _of_type(resources, "AWS::Serverless::Function")
    senders = {
        name
        for name, resource in functions.items()
        if any(_grants_ses(p) for p in resource["Properties"].get("Policies", []))
    }
    assert senders == SES_SENDERS
    mail_queuers = {"AuthFunction", "AccountFunction", "StripeWebhookFunction"}
    assert mail_queuers <= functions.keys() - senders


def test_the_jobs_worker_may_only_list_and_delete_in_the_media_buckets(resources):
    """media.purge needs ListBucket and DeleteObject; it never reads or writes media."""
    policies = resources["JobsWorkerFunction"]["Properties"]["Policies"]
    assert not [p for p in policies if isinstance(p, dict) and any(k.startswith("S3") for k in p)]
    s3_statements = [
        s
        for p in policies
        if isinstance(p, dict)
        for s in p.get("Statement", [])
        if any(
            str(a).startswith("s3:")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    actions = {s["Action"] for s in s3_statements}
    assert actions == {"s3:ListBucket", "s3:DeleteObject"}
    assert set().union(*(_refs(s["Resource"]) for s in s3_statements)) == {
        "VideosBucket",
        "UploadsBucket",
    }
