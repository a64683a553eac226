"""Short-tag loading and intrinsic resolution."""

from __future__ import annotations

import pytest

from devserver.cfn import Resolver, UnresolvableError, load_template

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "q-${Stage}"
      Tags:
        - !If [IsProd, {Key: a, Value: b}, !Ref AWS::NoValue]
      Arn: !GetAtt Queue.Arn
      Long: !Sub ["${A}-${Queue.Arn}-${!Literal}", {A: !Join ["/", [x, y]]}]
      Pick: !Select [1, !Split [",", "a,b,c"]]
"""


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    return load_template(path)


def test_short_tags_become_long_form(template):
    props = template["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == {"Fn::Sub": "q-${Stage}"}
    assert props["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert template["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}


def test_resolver_evaluates_sub_getatt_if_join_select(template):
    resolver = Resolver(template, {"Stage": "dev"}, {("Queue", "Arn"): "arn:q"})

    props = resolver.resolve(template["Resources"]["Queue"]["Properties"])

    assert props["QueueName"] == "q-dev"
    assert props["Tags"] == []  # AWS::NoValue dropped the list item
    assert props["Arn"] == "arn:q"
    assert props["Long"] == "x/y-arn:q-${Literal}"
    assert props["Pick"] == "b"
    assert resolver.condition("NotProd") is True


def test_unknown_reference_is_reported(template):
    resolver = Resolver(template, {}, {})
    with pytest.raises(UnresolvableError, match="Stage"):
        resolver.resolve({"Ref": "Stage"})
