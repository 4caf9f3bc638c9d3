"""Pure: recursion signals on the event bus -> findings.

Three signals end here, and only from the guardrail's own account:
- `Recursion Depth Exceeded` (source `guardrail`), published by the recursion guard in a user's function;
- AWS Health's notice that Lambda stopped a recursive loop (`AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION`);
- CloudWatch alarms on `AWS/Lambda` `RecursiveInvocationsDropped` with a `FunctionName` dimension going
  to ALARM (an alarm on any other namespace names no function).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardrail.domain import Finding, Target
from guardrail.errors import GuardrailError, InvalidFunctionRef
from guardrail.functions import function_name
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE

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
    """The detail of a `Recursion Depth Exceeded` event."""

    function: str = Field(min_length=1)
    depth: int = Field(ge=1)
    limit: int = Field(ge=0)
    chain_id: str = Field(min_length=1, max_length=128)
    operation: str = ""
    target: str = ""


class _Entity(_Detail):
    entity_value: str = Field(alias="entityValue")


class HealthNotice(_Detail):
    """The part of an AWS Health event this detector reads."""

    service: str
    event_type_code: str = Field(alias="eventTypeCode")
    event_arn: str = Field(alias="eventArn")
    affected_entities: list[_Entity] = Field(default_factory=list, alias="affectedEntities")


def findings_from_event(event: Any, *, account: str) -> list[Finding]:
    """The findings an EventBridge event of `account` gives (maybe none); else raise UnsupportedEvent."""
    try:
        envelope: EventBridgeModel = parse(event=event, model=EventBridgeModel)
    except ValidationError as exc:
        raise UnsupportedEvent(f"not an EventBridge event: {exc.error_count()} problems") from exc
    if envelope.account != account:
        raise UnsupportedEvent(f"event {envelope.id} is from account {envelope.account}, not {account}")
    kind = (envelope.source, envelope.detail_type)
    try:
        if kind == (EVENT_SOURCE, DETAIL_TYPE):
            return [_guard_finding(envelope)]
        if kind == (HEALTH_SOURCE, HEALTH_DETAIL_TYPE):
            return _health_findings(envelope)
        if kind == (ALARM_SOURCE, ALARM_DETAIL_TYPE):
            return _alarm_findings(envelope)
    except ValidationError as exc:
        raise UnsupportedEvent(f"{envelope.detail_type} {envelope.id}: malformed detail: {exc}") from exc
    raise UnsupportedEvent(f"unexpected event {kind[0]!r} / {kind[1]!r}")


def _guard_finding(envelope: EventBridgeModel) -> Finding:
    refusal = GuardRefusal.model_validate(envelope.detail)
    return Finding(
        target=Target.function(_name(refusal.function) or refusal.function),
        detector=DETECTOR_GUARD,
        reason=(
            f"the recursion guard refused {refusal.operation or 'a call'} at chain depth {refusal.depth},"
            f" past the function's limit of {refusal.limit}"
        ),
        observed_at=envelope.time,
        evidence={**refusal.model_dump(), "event_id": envelope.id},
        # retries of the refused invocation publish again with new event ids: one chain, one action
        dedupe_key=f"{DETECTOR_GUARD}:{refusal.function}:{refusal.chain_id}",
    )


def _health_findings(envelope: EventBridgeModel) -> list[Finding]:
    notice = HealthNotice.model_validate(envelope.detail)
    if notice.service != "LAMBDA" or notice.event_type_code not in HEALTH_EVENT_CODES:
        return []
    refs = [entity.entity_value for entity in notice.affected_entities] + list(envelope.resources)
    return _loop_findings(
        {name for name in map(_name, refs) if name},
        envelope,
        reason=f"AWS Health reports a recursive loop ({notice.event_type_code})",
        evidence={"health_event_arn": notice.event_arn, "event_type_code": notice.event_type_code},
        signal=f"health:{notice.event_arn}",
    )


def _alarm_findings(envelope: EventBridgeModel) -> list[Finding]:
    detail = envelope.detail
    if not isinstance(detail, Mapping) or (detail.get("state") or {}).get("value") != "ALARM":
        return []
    alarm = str(detail.get("alarmName", ""))
    names = set(_dropped_metric_functions(detail.get("configuration") or {}))
    if not names:
        logger.info("alarm %s has no FunctionName dimension; the invocation scan drills down", alarm)
    state = detail["state"]
    return _loop_findings(
        names,
        envelope,
        reason=f"Lambda dropped recursive invocations ({DROPPED_METRIC} alarm {alarm} is in ALARM)",
        evidence={"alarm": alarm, "alarm_reason": str(state.get("reason", ""))},
        signal=f"alarm:{alarm}:{state.get('timestamp') or envelope.id}",
    )


def _loop_findings(
    names: Iterable[str], envelope: EventBridgeModel, *, reason: str, evidence: Mapping[str, str], signal: str
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


def _dropped_metric_functions(configuration: Mapping[str, Any]) -> list[str]:
    names = []
    for query in configuration.get("metrics") or []:
        metric = ((query or {}).get("metricStat") or {}).get("metric") or {}
        if metric.get("name") == DROPPED_METRIC and metric.get("namespace") == LAMBDA_NAMESPACE:
            name = _name(str((metric.get("dimensions") or {}).get("FunctionName", "")))
            if name:
                names.append(name)
    return names


def _name(ref: str) -> str | None:
    try:
        return function_name(ref)
    except InvalidFunctionRef:
        return None
