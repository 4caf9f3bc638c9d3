"""The guardrail's own health in the synthesized app: reserved concurrency, DLQs, alarms, dashboard."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from guardrail.config.guardrail import ReservedConcurrency
from guardrail.handlers import observability as obs
from runaway_guardrail_cdk.dead_letters import ASYNC_MAX_AGE, ASYNC_RETRIES, RETENTION
from runaway_guardrail_cdk.health import DURATION_SHARE

pytestmark = pytest.mark.infra
PREFIX = "runaway-guardrail"


def _resources(template, kind):
    return template.find_resources(kind)


def _queues(synthesized):
    queues = _resources(synthesized.service_template, "AWS::SQS::Queue")
    [events] = [q for q in queues if "UndeliveredEvents" in q]
    [invocations] = [q for q in queues if "FailedInvocations" in q]
    return events, invocations


def test_every_guardrail_function_has_its_reserved_concurrency(synthesized):
    functions = _resources(synthesized.service_template, "AWS::Lambda::Function").values()
    reserved = {
        f["Properties"]["FunctionName"].removeprefix(f"{PREFIX}-"): f["Properties"].get(
            "ReservedConcurrentExecutions"
        )
        for f in functions
    }
    assert reserved == ReservedConcurrency().model_dump(by_alias=True)
    assert all(value > 0 for value in reserved.values())


def test_dead_letter_queues_are_encrypted_retained_and_tls_only(synthesized):
    template = synthesized.service_template
    queues = _resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == RETENTION.to_seconds()
        assert queue["DeletionPolicy"] == queue["UpdateReplacePolicy"] == "Retain"
    for logical_id in queues:
        template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": logical_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            {
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
                            }
                        ]
                    )
                },
            },
        )


def test_every_eventbridge_target_has_a_dead_letter_queue_and_a_retry_policy(synthesized):
    events_queue, _ = _queues(synthesized)
    rules = _resources(synthesized.service_template, "AWS::Events::Rule")
    assert len(rules) == 7
    for rule in rules.values():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [events_queue, "Arn"]}}
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 3600
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 2


def test_only_the_guardrails_rules_may_send_to_the_events_queue(synthesized):
    events_queue, _ = _queues(synthesized)
    [policy] = [
        p
        for p in _resources(synthesized.service_template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": events_queue}]
    ]
    allowed = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    rules = set(_resources(synthesized.service_template, "AWS::Events::Rule"))
    assert {s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0] for s in allowed} == rules
    for statement in allowed:
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Resource"] == {"Fn::GetAtt": [events_queue, "Arn"]}


def test_failed_asynchronous_invocations_go_to_the_invocations_queue(synthesized):
    _, invocations = _queues(synthesized)
    template = synthesized.service_template
    configs = _resources(template, "AWS::Lambda::EventInvokeConfig").values()
    functions = set(_resources(template, "AWS::Lambda::Function"))
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs} == functions
    for config in configs:
        assert config["Properties"]["DestinationConfig"] == {
            "OnFailure": {"Destination": {"Fn::GetAtt": [invocations, "Arn"]}}
        }
        assert config["Properties"]["MaximumRetryAttempts"] == ASYNC_RETRIES
        assert config["Properties"]["MaximumEventAgeInSeconds"] == ASYNC_MAX_AGE.to_seconds()


def _alarms(synthesized):
    return {
        a["Properties"]["AlarmName"].removeprefix(f"{PREFIX}-"): a["Properties"]
        for a in _resources(synthesized.service_template, "AWS::CloudWatch::Alarm").values()
    }


def test_each_function_and_each_dead_letter_queue_has_an_alarm_to_the_alert_topic(synthesized):
    alarms = _alarms(synthesized)
    roles = list(ReservedConcurrency().model_dump(by_alias=True))
    expected = {f"{role}-{what}" for role in roles for what in ("errors", "throttles")}
    expected |= {"invocation-scan-duration", "undelivered-events", "failed-invocations"}
    assert set(alarms) == expected
    topic = synthesized.state.state.topic
    topic_export = synthesized.service.resolve(topic.topic_arn)
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic_export]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
    for role in roles:
        assert (alarms[f"{role}-errors"]["Namespace"], alarms[f"{role}-errors"]["MetricName"]) == (
            "AWS/Lambda",
            "Errors",
        )
        assert alarms[f"{role}-throttles"]["MetricName"] == "Throttles"
    for queue in ("undelivered-events", "failed-invocations"):
        assert alarms[queue]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarms[queue]["Threshold"] == 0


def test_scan_duration_alarm_fires_before_its_timeout(synthesized):
    [scan] = [
        f["Properties"]
        for f in _resources(synthesized.service_template, "AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == f"{PREFIX}-invocation-scan"
    ]
    alarm = _alarms(synthesized)["invocation-scan-duration"]
    assert (alarm["MetricName"], alarm["Statistic"]) == ("Duration", "Maximum")
    assert alarm["Threshold"] == scan["Timeout"] * 1000 * DURATION_SHARE


def _alarm_names(arns):
    """The alarm names in a list of `Fn::Join`ed alarm ARNs."""
    return {json.dumps(arn).rsplit(":alarm:", 1)[1].split('"')[0] for arn in arns}


def test_only_the_guardrails_own_alarms_may_publish_to_the_encrypted_alert_topic(synthesized):
    """By their exact ARNs and this account: an alarm anyone names `<prefix>-...` may not publish."""
    template = synthesized.state_template
    own = {f"{PREFIX}-{name}" for name in _alarms(synthesized)}
    [topic_policy] = template.find_resources("AWS::SNS::TopicPolicy").values()
    [key] = template.find_resources("AWS::KMS::Key").values()
    granted = [
        (s, action)
        for statements, action in (
            (topic_policy["Properties"]["PolicyDocument"]["Statement"], "sns:Publish"),
            (key["Properties"]["KeyPolicy"]["Statement"], ["kms:Decrypt", "kms:GenerateDataKey*"]),
        )
        for s in statements
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert [action for _, action in granted] == ["sns:Publish", ["kms:Decrypt", "kms:GenerateDataKey*"]]
    for statement, _ in granted:
        assert statement["Effect"] == "Allow"
        assert set(statement["Condition"]) == {"ArnEquals", "StringEquals"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert _alarm_names(arns) == own
        assert "*" not in json.dumps(arns)


def _dashboard_body(synthesized):
    [dashboard] = _resources(synthesized.service_template, "AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return dashboard["Properties"]["DashboardName"], "".join(p if isinstance(p, str) else "?" for p in parts)


def test_dashboard_shows_the_metrics_the_handlers_publish(synthesized):
    name, body = _dashboard_body(synthesized)
    assert name == PREFIX
    titles = [widget["properties"]["title"] for widget in json.loads(body)["widgets"]]
    assert len(titles) == 7
    published = [
        obs.ACTIONS,
        obs.FUNCTIONS_HELD,
        obs.SCAN_GET_METRIC_DATA_CALLS,
        obs.SCAN_METRICS_QUERIED,
        obs.ATHENA_EVENTS_RECEIVED,
        obs.ATHENA_EVENTS_REJECTED,
        obs.RECURSION_SIGNALS_RECEIVED,
        obs.RECURSION_SIGNALS_REJECTED,
    ]
    for metric in published:
        assert f'"{metric}' in body or f'\\"{metric}\\"' in body, metric
    assert f"{{{obs.NAMESPACE},{obs.DETECTOR_DIMENSION},{obs.RESULT_DIMENSION},service}}" in body
    assert '"ApproximateNumberOfMessagesVisible"' in body
    assert '"type":"alarm"' in body


def test_dashboard_names_its_alarms_so_that_moto_can_deploy_it(synthesized):
    # moto's CloudFormation skips AWS::CloudWatch::Alarm: a Fn::GetAtt on one would fail `make demo`
    template = synthesized.service_template
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    alarms = set(template.find_resources("AWS::CloudWatch::Alarm"))
    referenced = json.dumps(dashboard)
    assert not any(f'"{logical_id}"' in referenced for logical_id in alarms)
    assert f":alarm:{PREFIX}-kill-switch-errors" in referenced
