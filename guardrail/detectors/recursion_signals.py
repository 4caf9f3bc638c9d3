"""Pure: recursion signals on the event buses -> findings, each marked with how far it can be trusted.

Three signals end here (docs/trust-model.md):
- `Recursion Depth Exceeded` (source `guardrail`), published by the recursion guard in a user's function
  on the guardrail's signal bus. Anyone allowed PutEvents there can write one, so its finding expects
  the named function to run the guard (the enforcer checks the function's layers and tags);
- AWS Health's notice that Lambda stopped a recursive loop (`AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION`);
- CloudWatch alarms on `AWS/Lambda` `RecursiveInvocationsDropped` with a `FunctionName` dimension going
  to ALARM (an alarm on any other namespace names no function).
A finding's target is in the event's own account and region (EventBridge sets both; a sender cannot
choose them), except for AWS Health: AWS delivers a copy of a notice to a backup region and, with the
organizational view, to the management or delegated-admin account, and says in `detail.eventRegion`
and `detail.affectedAccount` where the loop ran (the envelope only where those are absent). Every copy
of a notice is the same finding (one dedupe key per event ARN, affected account and function). An
event of an account or region the guardrail does not watch, or a reference to a function of any
other account or region than the event's, gives unverified findings: alerted as such, never acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardrail.detectors.recursion_alarms import ALARM, METRIC_PERIOD
from guardrail.domain import Expectation, Finding, Target
from guardrail.errors import ForeignFunctionRef, GuardrailError, InvalidFunctionRef
from guardrail.payloads import EventBridgeEvent, KeyText, invalid_unicode
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from guardrail.scope import Scope, function_name, is_function_name, layer_in_region

logger = logging.getLogger(__name__)

DETECTOR_GUARD = "recursion-guard"
DETECTOR_AWS = "aws-recursive-loop"
HEALTH_SOURCE = "aws.health"
HEALTH_DETAIL_TYPE = "AWS Health Event"
#: AWS Health's event type code for a recursive loop that Lambda stopped (service LAMBDA).
HEALTH_EVENT_CODES = ("AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION",)
ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
DROPPED_METRIC = "RecursiveInvocationsDropped"
LAMBDA_NAMESPACE = "AWS/Lambda"


class UnsupportedEvent(GuardrailError):
    """An event this detector does not handle, or one that does not follow its schema."""


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class GuardRefusal(_Detail):
    """The detail of a `Recursion Depth Exceeded` event, bounded to what the guard writes."""

    function: str = Field(min_length=1, max_length=256)
    depth: int = Field(ge=1)
    limit: int = Field(ge=0)
    chain_id: str = Field(min_length=1, max_length=128)
    operation: str = Field("", max_length=64)
    target: str = Field("", max_length=2048)
    #: The guard had no chain key: the depth it refused at may have been written outside the chain.
    unsigned_depth: bool = False

    @field_validator("function")
    @classmethod
    def _function_ref(cls, value: str) -> str:
        try:
            function_name(value)
        except InvalidFunctionRef as exc:  # a name AWS would refuse: never sent to it
            raise ValueError(str(exc)) from exc
        return value


class _Entity(_Detail):
    entity_value: str = Field(alias="entityValue")


class HealthNotice(_Detail):
    """The part of an AWS Health event this detector reads."""

    service: str
    event_type_code: str = Field(alias="eventTypeCode")
    event_arn: KeyText = Field(alias="eventArn", min_length=1)
    affected_entities: list[_Entity] = Field(default_factory=list, alias="affectedEntities")
    #: Where the loop ran (AWS sets both; the envelope says where this copy was delivered).
    event_region: str | None = Field(None, alias="eventRegion", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    affected_account: str | None = Field(None, alias="affectedAccount", pattern=r"^\d{12}$")


class _Metric(_Detail):
    namespace: str = ""
    name: str = ""
    dimensions: dict[str, str] = Field(default_factory=dict)


class _MetricStat(_Detail):
    metric: _Metric
    period: int = Field(60, ge=1)  # seconds


class _MetricQuery(_Detail):
    metric_stat: _MetricStat | None = Field(None, alias="metricStat")  # None: a math expression


class _AlarmConfiguration(_Detail):
    metrics: list[_MetricQuery] = Field(default_factory=list)  # none: a composite alarm


class _AlarmState(_Detail):
    value: str
    reason: str = ""
    timestamp: str = Field("", max_length=64)


class AlarmChange(_Detail):
    """The part of a CloudWatch alarm state change this detector reads (names are at most 255 long)."""

    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    state: _AlarmState
    configuration: _AlarmConfiguration = Field(default_factory=_AlarmConfiguration)


def findings_from_event(event: Any, *, scope: Scope, guard_layer: str) -> list[Finding]:
    """The findings an EventBridge event gives (maybe none); else raise UnsupportedEvent.

    `scope` is where the guardrail acts; `guard_layer` the layer whose functions run the guard.
    """
    problem = invalid_unicode(event)
    if problem:
        raise UnsupportedEvent(problem)
    try:
        envelope: EventBridgeModel = parse(event=event, model=EventBridgeEvent)
    except ValidationError as exc:
        raise UnsupportedEvent(f"not an EventBridge event: {exc.error_count()} problems") from exc
    kind = (envelope.source, envelope.detail_type)
    # the event's own place: what it may name, and where its findings' targets are
    origin = Scope(envelope.account, envelope.region, scope.partition)
    try:
        if kind == (EVENT_SOURCE, DETAIL_TYPE):
            findings = [_guard_finding(envelope, origin, layer_in_region(guard_layer, origin.region))]
        elif kind == (HEALTH_SOURCE, HEALTH_DETAIL_TYPE):
            notice = HealthNotice.model_validate(envelope.detail)
            origin = Scope(
                notice.affected_account or envelope.account,
                notice.event_region or envelope.region,
                scope.partition,
            )
            findings = _health_findings(envelope, notice, origin)
        elif kind == (ALARM_SOURCE, ALARM_DETAIL_TYPE):
            findings = _alarm_findings(envelope)
        else:
            raise UnsupportedEvent(f"unexpected event {kind[0]!r} / {kind[1]!r}")
    except ValidationError as exc:
        raise UnsupportedEvent(f"{envelope.detail_type} {envelope.id}: malformed detail: {exc}") from exc
    findings = [_located(finding, origin, home=scope) for finding in findings]
    if not scope.admits(account=origin.account, region=origin.region):
        delivered_there = (origin.account, origin.region) == (envelope.account, envelope.region)
        doubt = f"the event is {'from' if delivered_there else 'about'} account {origin.account}, "
        doubt += f"region {origin.region}; "
        doubt += f"this guardrail acts in {scope}"
        return [finding.unverified(doubt) for finding in findings]
    return findings


def _located(finding: Finding, origin: Scope, *, home: Scope) -> Finding:
    """The finding's target in the event's account and region; its key apart from the home's keys."""
    key = finding.dedupe_key
    if key and not home.is_home(origin.account, origin.region):
        key = f"{key}@{origin.account}:{origin.region}"
    return replace(finding, target=finding.target.located(origin.account, origin.region), dedupe_key=key)


def _guard_finding(envelope: EventBridgeModel, scope: Scope, guard_layer: str) -> Finding:
    refusal = GuardRefusal.model_validate(envelope.detail)
    names: set[str] = set()
    doubts: list[str] = []
    for ref in [refusal.function, *envelope.resources]:
        try:
            names.add(function_name(ref, scope))
        except InvalidFunctionRef as exc:
            doubts.append(str(exc))
    if len(names) > 1:
        doubts.append(f"the event names more than one function: {', '.join(sorted(names))}")
    if refusal.unsigned_depth:
        doubts.append(
            "the guard had no chain key, so the depth it refused at may have been written by anyone who"
            " can send to the function (give the function to the construct's guard(fn))"
        )
    name = names.pop() if len(names) == 1 else refusal.function
    finding = Finding(
        target=Target.function(name),
        detector=DETECTOR_GUARD,
        reason=(
            f"the recursion guard refused {refusal.operation or 'a call'} at chain depth {refusal.depth},"
            f" past the function's limit of {refusal.limit}"
        ),
        observed_at=envelope.time,
        evidence={**refusal.model_dump(), "event_id": envelope.id},
        # retries of the refused invocation publish again with new event ids: one chain, one action
        dedupe_key=f"{DETECTOR_GUARD}:{name}:{refusal.chain_id}",
        expect=Expectation(guard_layer=guard_layer),
    )
    return finding.unverified("; ".join(doubts)) if doubts else finding


def _health_findings(envelope: EventBridgeModel, notice: HealthNotice, scope: Scope) -> list[Finding]:
    """The notice's functions, in `scope`: where the notice says the loop ran."""
    if notice.service != "LAMBDA" or notice.event_type_code not in HEALTH_EVENT_CODES:
        return []
    refs = [entity.entity_value for entity in notice.affected_entities] + list(envelope.resources)
    names: set[str] = set()
    foreign: dict[str, str] = {}  # a function outside the scope, by name: why it is not acted on
    for ref in refs:
        try:
            names.add(function_name(ref, scope))
        except ForeignFunctionRef as exc:
            foreign[function_name(ref)] = str(exc)
        except InvalidFunctionRef:
            continue  # an entity that is not a function (an account, a resource of another kind)
    findings = _loop_findings(
        names | foreign.keys(),
        envelope,
        reason=f"AWS Health reports a recursive loop ({notice.event_type_code})",
        evidence={
            "health_event_arn": notice.event_arn,
            "event_type_code": notice.event_type_code,
            "delivered_to": f"account {envelope.account}, region {envelope.region}",
        },
        signal=f"health:{notice.event_arn}",
    )
    return [
        f.unverified(foreign[f.target.name]) if f.target.name in foreign and f.target.name not in names else f
        for f in findings
    ]


def _alarm_findings(envelope: EventBridgeModel) -> list[Finding]:
    change = AlarmChange.model_validate(envelope.detail)
    if change.state.value != "ALARM":
        return []
    alarm = change.alarm_name
    periods = _dropped_metric_periods(change.configuration)
    names = set(periods)
    if not names:
        logger.info("alarm %s has no FunctionName dimension; the invocation scan drills down", alarm)
    return _loop_findings(
        names,
        envelope,
        reason=f"Lambda dropped recursive invocations ({DROPPED_METRIC} alarm {alarm} is in ALARM)",
        evidence={
            ALARM: alarm,
            "alarm_reason": change.state.reason,
            METRIC_PERIOD: max(periods.values(), default=60),
        },
        signal=f"alarm:{alarm}:{change.state.timestamp or envelope.id}",
    )


def _loop_findings(
    names: Iterable[str], envelope: EventBridgeModel, *, reason: str, evidence: Mapping[str, Any], signal: str
) -> list[Finding]:
    """One finding per function an AWS recursive-loop signal names, deduplicated per signal and function."""
    return [
        Finding(
            target=Target.function(name),
            detector=DETECTOR_AWS,
            reason=reason,
            observed_at=envelope.time,
            evidence=dict(evidence),
            dedupe_key=f"{DETECTOR_AWS}:{signal}:{name}",
        )
        for name in sorted(names)
    ]


def _dropped_metric_periods(configuration: _AlarmConfiguration) -> dict[str, int]:
    """The functions the alarm's dropped-invocation metrics name, each with its (longest) period."""
    periods: dict[str, int] = {}
    for query in configuration.metrics:
        if query.metric_stat is None:
            continue
        metric = query.metric_stat.metric
        if metric.name == DROPPED_METRIC and metric.namespace == LAMBDA_NAMESPACE:
            name = metric.dimensions.get("FunctionName", "")
            if is_function_name(name):
                periods[name] = max(periods.get(name, 0), query.metric_stat.period)
    return periods
