"""The guardrail's functions, one row each: what runs, its size, what starts it, what it may do.

Every construct that holds a guardrail function builds it from its row (`GuardrailFunction`): its
handler, memory, timeout and description; its role, from `ENFORCEMENT` and the row's `grants`, each
the adapters' own declaration of what they call on which kind of resource
(`guardrail.adapters.permissions`); the retry policy of the rules that target it, from its trigger;
and its alarms (`GuardrailHealth`). Every function has the same environment (the `Settings` of the
deployment) and the same alarms on its errors and throttles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.permissions import Grant, Resource
from guardrail.adapters.scan_watchlist import ScanWatchlist
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.config.athena_watch import DETECTOR as ATHENA_DETECTOR
from guardrail.config.invocation_scan import DETECTOR as SCAN_DETECTOR
from guardrail.detectors.recursion_signals import DETECTOR_AWS, DETECTOR_GUARD
from guardrail.handlers.observability import ATHENA_WATCH, INVOCATION_SCAN, KILL_SWITCH, RECURSION_WATCH

#: What the actions call where their target is (a watched account and region): stop it, put it back.
ACTING: tuple[Grant, ...] = (
    *LambdaControl.PERMISSIONS,
    *EventSources.PERMISSIONS,
    *AthenaWorkgroups.PERMISSIONS,
)
#: What every function may do, since each enforces what it finds the one way: the actions, the
#: ledger, the alert topic.
ENFORCEMENT: tuple[Grant, ...] = (*ACTING, *Ledger.PERMISSIONS, *SnsAlerts.PERMISSIONS)
#: The guardrail's own state, in the home account only; everything else may be in any watched account.
HOME_STATE = frozenset({Resource.LEDGER, Resource.LEDGER_TABLE, Resource.AUDIT_INDEX, Resource.ALERT_TOPIC})


class Trigger(StrEnum):
    """What starts a function."""

    #: An operator (the `guardrail` command, a chat channel) invokes it; no rule does.
    OPERATOR = "operator"
    #: EventBridge rules on the default bus and the signal bus.
    EVENTS = "events"
    #: An EventBridge schedule: every minute.
    SCHEDULE = "schedule"

    @property
    def retry_attempts(self) -> int:
        """EventBridge's retries of one delivery to the function (none when no rule targets it)."""
        return {Trigger.OPERATOR: 0, Trigger.EVENTS: 4, Trigger.SCHEDULE: 2}[self]


@dataclass(frozen=True)
class FunctionSpec:
    """One guardrail function, as deployed."""

    #: Its name after the prefix, its metrics' `service`, its reserved concurrency's key.
    role: str
    #: The Lambda handler, as the function's `handler` setting names it.
    handler: str
    description: str
    trigger: Trigger
    #: The detectors whose findings it makes (`Finding.detector`); none for the kill switch.
    detectors: tuple[str, ...] = ()
    #: What it may do besides `ENFORCEMENT`, as the adapters it uses declare it.
    grants: tuple[Grant, ...] = ()
    memory_size: int = 256
    timeout_seconds: int = 60
    #: When its longest run is alarmed (at a share of its timeout): what one run is called.
    duration_alarm: str | None = None


#: Every guardrail function, by role, in the order they are built.
FUNCTIONS: Mapping[str, FunctionSpec] = {
    spec.role: spec
    for spec in (
        FunctionSpec(
            KILL_SWITCH,
            "guardrail.handlers.kill_switch.handler",
            "Runaway Guardrail kill switch: throttle, restore, status, panic",
            Trigger.OPERATOR,
            grants=Ledger.HISTORY_PERMISSIONS,
            memory_size=512,
            timeout_seconds=600,
        ),
        FunctionSpec(
            RECURSION_WATCH,
            "guardrail.handlers.recursion_watch.handler",
            "Runaway Guardrail: recursion guard refusals, AWS recursive-loop signals -> throttle",
            Trigger.EVENTS,
            detectors=(DETECTOR_GUARD, DETECTOR_AWS),
            grants=CloudWatchMetrics.PERMISSIONS,  # RecursiveInvocationsDropped, to check an alarm
        ),
        FunctionSpec(
            INVOCATION_SCAN,
            "guardrail.handlers.invocation_scan.handler",
            "Runaway Guardrail: per-minute invocation scan -> throttle",
            Trigger.SCHEDULE,
            detectors=(SCAN_DETECTOR,),
            grants=(*CloudWatchMetrics.PERMISSIONS, *ScanWatchlist.PERMISSIONS),
            memory_size=512,
            timeout_seconds=300,
            duration_alarm="An invocation scan",
        ),
        FunctionSpec(
            ATHENA_WATCH,
            "guardrail.handlers.athena_watch.handler",
            "Runaway Guardrail Athena watch: query rates, bytes, cross-region reads",
            Trigger.EVENTS,
            detectors=(ATHENA_DETECTOR,),
            grants=(
                *AthenaCounters.PERMISSIONS,
                *AthenaBaselines.PERMISSIONS,
                *AthenaQueries.PERMISSIONS,
                *DataLocations.PERMISSIONS,
            ),
        ),
    )
}


def in_watched_accounts(grants: tuple[Grant, ...]) -> tuple[Grant, ...]:
    """The grants on resources that may be in any watched account (not the guardrail's own state)."""
    return tuple(grant for grant in grants if grant.resource not in HOME_STATE)
