"""Lambda events and contexts shaped exactly like the ones AWS delivers.

* API Gateway HTTP API payload format 2.0 (requests and REQUEST authorizers),
* SQS batches (as the event source mapping sends them),
* EventBridge scheduled events.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_ID = "123456789012"
API_ID = "local"

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
)


@dataclass
class HttpRequest:
    """The parts of an HTTP request that API Gateway puts in an event."""

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    host: str = "127.0.0.1:3000"


def _md5(text: str) -> str:
    """SQS's own body checksum (MD5 is what the service uses, not a security control)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _is_text(content_type: str) -> bool:
    content_type = content_type.lower()
    return any(content_type.startswith(t) for t in _TEXT_TYPES) or content_type.endswith("+json")


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def new_request_id() -> str:
    """An id shaped like API Gateway's (base64, ends with '=')."""
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()


def _headers(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    """Lower-cased headers, repeated ones joined by commas; cookies split out like API GW."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("host", request.host)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-port", request.host.rpartition(":")[2] or "80")
    return headers, cookies


def _query_parameters(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def http_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: dict[str, str] | None = None,
    authorizer_context: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for ``request``."""
    now = time.time()
    headers, cookies = _headers(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": headers["host"],
            "domainPrefix": headers["host"].split(".")[0].split(":")[0],
            "http": {
                "method": request.method.upper(),
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id or new_request_id(),
            "routeKey": route_key,
            "stage": "$default",
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if request.query:
        event["queryStringParameters"] = _query_parameters(request.query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = {"lambda": authorizer_context}
    if request.body:
        if _is_text(headers.get("content-type", "")):
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


def authorizer_event(
    request: HttpRequest,
    *,
    route_key: str,
    identity_headers: tuple[str, ...],
    path_parameters: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A Lambda REQUEST authorizer event (payload format 2.0) for ``request``."""
    base = http_event(
        request, route_key=route_key, path_parameters=path_parameters, request_id=request_id
    )
    method, _, path = route_key.partition(" ")
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": (
            f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/$default/{method}{path}"
        ),
        "identitySource": [base["headers"].get(h, "") for h in identity_headers],
        "routeKey": route_key,
        "rawPath": base["rawPath"],
        "rawQueryString": base["rawQueryString"],
        "headers": base["headers"],
        "requestContext": base["requestContext"],
    }
    for key in ("cookies", "queryStringParameters", "pathParameters"):
        if key in base:
            event[key] = base[key]
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping delivers for ``messages`` (ReceiveMessage)."""
    records = []
    for message in messages:
        body = message.get("Body", "")
        attributes = {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        }
        attributes.update(message.get("Attributes") or {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": attributes,
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or _md5(body),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def scheduled_event(rule_arn: str, region: str, payload: str | None = None) -> Any:
    """An EventBridge scheduled event, or the schedule's constant ``Input`` when it has one."""
    if payload is not None:
        return json.loads(payload)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class LambdaContext:
    """The context object handed to a handler (the attributes Powertools reads)."""

    def __init__(self, function_name: str, *, memory_mb: int, timeout_s: int, region: str):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
