"""Delivers events to the Lambda targets of the rules deployed on an event bus, in-process.

moto stores EventBridge rules but cannot invoke Lambda targets, and its TestEventPattern always
matches. This bridge reads the rules and targets as deployed, matches each event against each
rule's own pattern (`pattern_matches`: EventBridge's matching of objects and arrays, with moto's
comparison operators) and runs the matched targets' handlers through the `LambdaRuntime`. There is
no routing table of its own: a wrong pattern in the stack makes the event miss, as it would in AWS.

A rule whose target is another event bus (another region's, another account's: the guardrail's
forwarding rules) hands the event, envelope unchanged, to `forward` with that bus's ARN; `Buses`
keeps one bridge per bus and routes between them, as EventBridge's cross-region and cross-account
delivery does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from moto.events.models import UNDEFINED, EventPattern

from devtools.lambda_runtime import LambdaRuntime


@dataclass(frozen=True)
class DeployedRule:
    """One rule on the bus, with the Lambda functions it targets."""

    name: str
    arn: str
    enabled: bool
    pattern: EventPattern | None  # parsed once, when the rules are read
    schedule: str | None
    targets: tuple[tuple[str, str | None], ...]  # (function name, constant Input or None)
    buses: tuple[str, ...] = ()  # ARNs of event buses the rule forwards to


@dataclass
class Delivery:
    """One event handed to one target function."""

    rule: str
    function: str
    event: dict[str, Any]
    result: Any = None
    error: str | None = None


@dataclass
class EventBusBridge:
    """Routes events by the deployed rules to the deployed functions."""

    session: boto3.session.Session
    lambdas: LambdaRuntime
    bus: str = "default"
    account: str = "123456789012"
    deliveries: list[Delivery] = field(default_factory=list)
    #: Delivers a forwarded event to the bus with this ARN (None: forwarding rules deliver nowhere).
    forward: Callable[[str, dict[str, Any]], list[Delivery]] | None = None
    _rules: list[DeployedRule] | None = None

    def rules(self) -> list[DeployedRule]:
        """The bus's rules as deployed (read once, then cached)."""
        if self._rules is None:
            events = self.session.client("events")
            rules = []
            for page in events.get_paginator("list_rules").paginate(EventBusName=self.bus):
                for rule in page["Rules"]:
                    targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=self.bus)["Targets"]
                    rules.append(
                        DeployedRule(
                            name=rule["Name"],
                            arn=rule["Arn"],
                            enabled=rule.get("State") == "ENABLED",
                            pattern=EventPattern.load(rule["EventPattern"])
                            if rule.get("EventPattern")
                            else None,
                            schedule=rule.get("ScheduleExpression"),
                            targets=tuple(
                                (t["Arn"].split(":function:")[1].split(":")[0], t.get("Input"))
                                for t in targets
                                if ":function:" in t["Arn"]
                            ),
                            buses=tuple(t["Arn"] for t in targets if ":event-bus/" in t["Arn"]),
                        )
                    )
            self._rules = rules
        return self._rules

    def put(self, event: dict[str, Any]) -> list[Delivery]:
        """Deliver one event (its envelope filled in) to the functions of every rule it matches."""
        event = self._envelope(event)
        out: list[Delivery] = []
        for rule in self.rules():
            if (
                rule.enabled
                and rule.pattern is not None
                and pattern_matches(rule.pattern.get_pattern(), event)
            ):
                out += self._deliver_all(rule, event)
        return out

    def fire_schedules(self, at: datetime) -> list[Delivery]:
        """Deliver the `Scheduled Event` that each schedule rule would send at `at`."""
        out: list[Delivery] = []
        for rule in self.rules():
            if rule.enabled and rule.schedule:
                event = self._envelope(
                    {
                        "source": "aws.events",
                        "detail-type": "Scheduled Event",
                        "detail": {},
                        "resources": [rule.arn],
                        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
                out += self._deliver_all(rule, event)
        return out

    def _deliver_all(self, rule: DeployedRule, event: dict[str, Any]) -> list[Delivery]:
        deliveries = []
        for bus in rule.buses:
            if self.forward is not None:
                deliveries += self.forward(bus, event)
        for function, constant in rule.targets:
            payload = json.loads(constant) if constant is not None else event
            delivery = Delivery(rule.name, function, payload)
            try:
                delivery.result = self.lambdas.run(function, payload)
            except Exception as exc:
                delivery.error = f"{type(exc).__name__}: {exc}"
            self.deliveries.append(delivery)
            deliveries.append(delivery)
        return deliveries

    def _envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "account": self.account,
            "region": self.session.region_name or "us-east-1",
            "resources": [],
            "detail": {},
            **event,
        }


def pattern_matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether an EventBridge pattern (parsed, validated by moto) matches `event`, as EventBridge does.

    Every field of the pattern must match (`$or`: one of its patterns). A field's list of values
    matches when one of them matches the event's value; when the event's value is an array, when one
    matches any element of it ("the intersection of the event pattern array and the event array is
    non-empty", docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html). A
    nested pattern under an array of objects matches when one element matches it whole, its nested
    fields included, at any depth of arrays. moto's own matcher flattens objects only, so a pattern on
    a field inside an array of objects (a Health event's `affectedEntities`) never matched there.
    """
    for key, rule in pattern.items():
        if key == "$or":
            if not any(pattern_matches(alternative, event) for alternative in rule):
                return False
            continue
        value = event.get(key, UNDEFINED) if isinstance(event, dict) else UNDEFINED
        if not (_nested_matches(rule, value) if isinstance(rule, dict) else _leaf_matches(rule, value)):
            return False
    return True


def _nested_matches(pattern: dict[str, Any], value: Any) -> bool:
    if isinstance(value, list):  # an array of objects (or of arrays): one element matches it whole
        return any(_nested_matches(pattern, element) for element in value)
    return pattern_matches(pattern, value if isinstance(value, dict) else {})


def _leaf_matches(filters: Any, value: Any) -> bool:
    if not isinstance(filters, list):
        return False
    values = _scalars(value)
    for wanted in filters:
        if isinstance(wanted, dict):
            # moto's comparison operators (prefix, numeric, exists, anything-but, ...): each already
            # takes an array as "any element"
            item = UNDEFINED if value is UNDEFINED else (values if isinstance(value, list) else value)
            if EventPattern._does_item_match_named_filter(item, wanted):
                return True
        elif any(_same(wanted, found) for found in values):
            return True
    return False


def _scalars(value: Any) -> list[Any]:
    """The scalar values a field holds: itself, or every scalar element of its arrays (none if absent)."""
    if value is UNDEFINED or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [scalar for element in value for scalar in _scalars(element)]
    return [value]


def _same(wanted: Any, found: Any) -> bool:
    """JSON equality: `true` is not `1`, `1` is `1.0`."""
    if isinstance(wanted, bool) or isinstance(found, bool):
        return wanted is found
    return bool(wanted == found)


class Buses:
    """One bridge per event bus (by ARN), and EventBridge's delivery between them."""

    def __init__(self) -> None:
        self._bridges: dict[str, EventBusBridge] = {}

    def add(self, arn: str, bridge: EventBusBridge) -> EventBusBridge:
        """Register the bridge of the bus `arn`; its forwarding rules deliver through this network."""
        bridge.forward = self.deliver
        self._bridges[arn] = bridge
        return bridge

    def deliver(self, arn: str, event: dict[str, Any]) -> list[Delivery]:
        """Put a forwarded event on the bus `arn` (a bus nobody deployed drops it, as AWS would fail it)."""
        bridge = self._bridges.get(arn)
        return [] if bridge is None else bridge.put(event)
