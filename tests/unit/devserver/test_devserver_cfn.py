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


LOOPS = """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Fn::ForEach::Groups:
    - Name
    - [Health, Pipeline-Worker]
    - "&{Name}LogGroup":
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: !Sub /app/${Stage}/${Name}
          Label: !Ref Name
          Target: {Ref: !Sub "&{Name}Function"}
          Arn: !GetAtt [!Sub "&{Name}Function", Arn]
      Fn::ForEach::Inner:
        - Kind
        - [A, B]
        - "&{Name}${Kind}Alarm":
            Type: AWS::CloudWatch::Alarm
            Properties: {AlarmName: !Sub "${Name}-${Kind}-${!Literal}"}
"""


def _write(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return path


def test_for_each_loops_expand_keys_strings_and_refs(tmp_path):
    resources = load_template(_write(tmp_path, LOOPS))["Resources"]

    assert sorted(resources) == [
        "HealthAAlarm",
        "HealthBAlarm",
        "HealthLogGroup",
        "PipelineWorkerAAlarm",
        "PipelineWorkerBAlarm",
        "PipelineWorkerLogGroup",
    ]
    props = resources["PipelineWorkerLogGroup"]["Properties"]
    assert props["LogGroupName"] == {"Fn::Sub": "/app/${Stage}/Pipeline-Worker"}
    assert props["Label"] == "Pipeline-Worker"
    # A Fn::Sub left without variables is its string: Ref/GetAtt name the resource.
    assert props["Target"] == {"Ref": "PipelineWorkerFunction"}
    assert props["Arn"] == {"Fn::GetAtt": ["PipelineWorkerFunction", "Arn"]}
    alarm = resources["HealthBAlarm"]["Properties"]
    assert alarm["AlarmName"] == {"Fn::Sub": "Health-B-${!Literal}"}


def test_without_the_language_extensions_transform_nothing_is_expanded(tmp_path):
    text = LOOPS.replace("[AWS::LanguageExtensions, AWS::Serverless-2016-10-31]", "X")
    resources = load_template(_write(tmp_path, text))["Resources"]
    assert list(resources) == ["Fn::ForEach::Groups"]


def test_a_loop_producing_an_existing_key_is_an_error(tmp_path):
    text = LOOPS + "  HealthLogGroup: {Type: AWS::Logs::LogGroup}\n"
    with pytest.raises(ValueError, match="HealthLogGroup is defined twice"):
        load_template(_write(tmp_path, text))


def test_a_loop_over_a_parameter_is_refused_with_a_message(tmp_path):
    text = LOOPS.replace("- [Health, Pipeline-Worker]", "- !Ref Names")
    with pytest.raises(ValueError, match="Fn::ForEach::Groups"):
        load_template(_write(tmp_path, text))
