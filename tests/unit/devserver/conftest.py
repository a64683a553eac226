"""Fixtures for the local stack's tests: small templates with stub handlers on disk."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devserver.app_model import AppModel, build_model
from devserver.gateway import Gateway
from devserver.runner import FunctionRunner

STUB_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        STAGE: !Ref Stage
        QUEUE_URL: !Ref WorkQueue
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "work-${Stage}"
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers:
          Lambda:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization]}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.lambda_handler
      Environment: {Variables: {POWERTOOLS_SERVICE_NAME: echo}}
      Events:
        Public:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /v1/echo/{id}
            Method: POST
            Auth: {Authorizer: NONE}
        Private:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /v1/private, Method: GET}
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/authorizer/
      Handler: app.lambda_handler
"""

ECHO = """
import base64, json, os

def lambda_handler(event, context):
    if event.get("rawPath", "").endswith("/boom"):
        raise RuntimeError("boom")
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Stage": os.environ["STAGE"]},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps({"event": event, "service": os.environ["POWERTOOLS_SERVICE_NAME"],
                            "queue": os.environ["QUEUE_URL"]}),
    }
"""

AUTHORIZER = """
def lambda_handler(event, context):
    token = event["identitySource"][0]
    if token == "Bearer good":
        return {"isAuthorized": True, "context": {"userId": "u-1", "roles": "user"}}
    return {"isAuthorized": False}
"""


def write_app(root: Path, template: str, handlers: dict[str, str]) -> Path:
    """Write ``template.yaml`` and ``functions/<name>/app.py`` under ``root``."""
    (root / "template.yaml").write_text(textwrap.dedent(template))
    for name, code in handlers.items():
        directory = root / "functions" / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "app.py").write_text(textwrap.dedent(code))
    return root / "template.yaml"


@pytest.fixture
def stub_model(tmp_path: Path) -> AppModel:
    """A model of STUB_TEMPLATE, with the echo handler and a token-checking authorizer."""
    return build_model(write_app(tmp_path, STUB_TEMPLATE, {"echo": ECHO, "authorizer": AUTHORIZER}))


@pytest.fixture
def make_gateway() -> Iterator[Callable[[AppModel], Gateway]]:
    """Gateway over a model; environments are fixed values so no moto is needed."""
    saved = dict(os.environ)

    def build(model: AppModel) -> Gateway:
        environments = {
            name: {
                "STAGE": "local",
                "QUEUE_URL": "https://sqs.local/work",
                "POWERTOOLS_SERVICE_NAME": name.lower(),
            }
            for name in model.functions
        }
        runner = FunctionRunner(model, environments, on_environment_change=lambda: None)
        return Gateway(model, runner)

    yield build
    # The runner leaves the last function's environment in place, like a warm container.
    os.environ.clear()
    os.environ.update(saved)
