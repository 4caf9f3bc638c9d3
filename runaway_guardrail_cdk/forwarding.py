"""Signals from other regions and accounts: the rules that forward them, and the home rules that read them.

Each watched region besides home (`GuardrailRegionStack`) and each member account (`GuardrailMemberStack`)
forwards to the home region's `<prefix>-signals` bus what the home region reads from its default bus
(Athena query state changes, CloudTrail StartQueryExecution, AWS Health recursive-loop notices,
RecursiveInvocationsDropped alarms) and everything the recursion guard publishes on its own
`<prefix>-signals` bus (by source). On the home bus, `ForwardedSignals` twins the detector rules so the
forwarded events reach the same functions. EventBridge keeps each event's `account` and `region`.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.detectors.athena.query_events import API_CALL, STATE_CHANGE, TERMINAL_STATES
from guardrail.detectors.recursion_signals import (
    ALARM_DETAIL_TYPE,
    ALARM_SOURCE,
    DROPPED_METRIC,
    HEALTH_DETAIL_TYPE,
    HEALTH_EVENT_CODES,
    HEALTH_SOURCE,
    LAMBDA_NAMESPACE,
)
from guardrail.recursion import EVENT_SOURCE

from .dead_letters import DeadLetters, dead_letter_queue
from .function import GuardrailFunction


def forwards_to_home(config: GuardrailConfig) -> bool:
    """True when other regions or accounts forward signals to the home bus (`regions`, `organization`)."""
    return bool(config.regions) or config.organization.enabled


def athena_patterns() -> dict[str, tuple[str, events.EventPattern]]:
    """The Athena watch's signals, by rule id: a description and the pattern (as the home rules')."""
    return {
        "AthenaQueryStateChange": (
            "Athena queries reaching a final state, for the Athena watch",
            events.EventPattern(
                source=["aws.athena"],
                detail_type=[STATE_CHANGE],
                detail={"currentState": sorted(TERMINAL_STATES)},
            ),
        ),
        "AthenaQueryStarted": (
            "StartQueryExecution calls from CloudTrail (the caller), for the Athena watch",
            events.EventPattern(
                source=["aws.athena"],
                detail_type=[API_CALL],
                detail={"eventSource": ["athena.amazonaws.com"], "eventName": ["StartQueryExecution"]},
            ),
        ),
    }


def recursion_patterns() -> dict[str, tuple[str, events.EventPattern]]:
    """AWS's recursive-loop signals for the recursion watch, by rule id: a description and the pattern."""
    return {
        "HealthRecursiveLoops": (
            "AWS Health: Lambda stopped a recursive loop",
            events.EventPattern(
                source=[HEALTH_SOURCE],
                detail_type=[HEALTH_DETAIL_TYPE],
                detail={"service": ["LAMBDA"], "eventTypeCode": list(HEALTH_EVENT_CODES)},
            ),
        ),
        "DroppedRecursionAlarms": (
            f"A CloudWatch alarm on {DROPPED_METRIC} went to ALARM",
            events.EventPattern(
                source=[ALARM_SOURCE],
                detail_type=[ALARM_DETAIL_TYPE],
                detail={
                    "state": {"value": ["ALARM"]},
                    "configuration": {
                        "metrics": {
                            "metricStat": {
                                "metric": {"namespace": [LAMBDA_NAMESPACE], "name": [DROPPED_METRIC]}
                            }
                        }
                    },
                },
            ),
        ),
    }


class Forwarding(Construct):
    """Rules forwarding this account's and region's signals to the home bus, through one role.

    `home_bus_arn` may be in another region (same account) or another account (organization mode,
    whose central bus admits the organization). The guard's refusals and anything else it publishes
    are forwarded from `signal_bus` by source.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        home_bus_arn: str,
        signal_bus: events.EventBus,
        signal_bus_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        home_bus = events.EventBus.from_event_bus_arn(self, "HomeBus", home_bus_arn)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge forwards the guardrail's signals to the home region's bus",
        )
        #: Events EventBridge could not forward within its retry policy (24 h, 185 attempts).
        self.dead_letters = dead_letter_queue(self, "UndeliveredForwards")
        home = targets.EventBus(home_bus, role=self.role, dead_letter_queue=self.dead_letters)
        #: Every forwarding rule, by id.
        self.rules: dict[str, events.Rule] = {}
        for rule_id, (description, pattern) in {**athena_patterns(), **recursion_patterns()}.items():
            self.rules[rule_id] = events.Rule(
                self,
                rule_id,
                description=f"Forwarded to the home bus: {description}",
                event_pattern=pattern,
                targets=[home],
            )
        guard = events.Rule(
            self,
            "GuardSignals",
            description="Forwarded to the home bus: everything the recursion guard publishes",
            # by its (fixed) name, not a Ref: moto's CloudFormation cannot resolve a Ref to an event bus
            event_bus=events.EventBus.from_event_bus_name(self, "SignalBusByName", signal_bus_name),
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            targets=[home],
        )
        guard.node.add_dependency(signal_bus)
        self.rules["GuardSignals"] = guard


class ForwardedSignals(Construct):
    """On the home `<prefix>-signals` bus: the detector rules again, for events forwarded to it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        signal_bus: events.EventBus,
        signal_bus_name: str,
        athena_watch: GuardrailFunction,
        recursion_watch: GuardrailFunction,
        dead_letters: DeadLetters,
    ) -> None:
        super().__init__(scope, construct_id)
        # by its (fixed) name, not a Ref: moto's CloudFormation cannot resolve a Ref to an event bus
        bus = events.EventBus.from_event_bus_name(self, "SignalBusByName", signal_bus_name)
        #: Every rule, by id.
        self.rules: dict[str, events.Rule] = {}
        for function, patterns in (
            (athena_watch, athena_patterns()),
            (recursion_watch, recursion_patterns()),
        ):
            target = function.target(dead_letters)
            for rule_id, (description, pattern) in patterns.items():
                rule = events.Rule(
                    self,
                    rule_id,
                    description=f"Forwarded from a watched region or member account: {description}",
                    event_bus=bus,
                    event_pattern=pattern,
                    targets=[target],
                )
                rule.node.add_dependency(signal_bus)
                self.rules[rule_id] = rule
