"""The Athena watch: books each event once, reads the windows, decides, and acts on the decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.detectors.athena.config import DETECTOR, AthenaWatchConfig
from guardrail.detectors.athena.cost import estimate
from guardrail.detectors.athena.detect import (
    Action,
    Breach,
    caller_actions,
    cross_region_breach,
    describe,
    limit_breaches,
    quiet_hours_breach,
    workgroup_actions,
)
from guardrail.detectors.athena.events import Caller, Ignored, QueryFinished, QueryStarted, parse_event
from guardrail.detectors.athena.model import caller_scope, workgroup_scope
from guardrail.detectors.athena.notices import Notices
from guardrail.detectors.athena.ports import CounterStore, LocationLookup, QueryLookup
from guardrail.domain import Finding, Result
from guardrail.enforcement.enforcer import Enforcer


@dataclass(frozen=True)
class Report:
    """What one event led to: `counted`, `duplicate`, `ignored` or `unknown-query`, and the actions."""

    status: str
    query_id: str = ""
    detail: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)


class AthenaWatch:
    """Turns Athena events into counts, and counts over the limits into throttles and alerts."""

    def __init__(
        self,
        *,
        config: AthenaWatchConfig,
        region: str,
        counters: CounterStore,
        queries: QueryLookup,
        locations: LocationLookup,
        enforcer: Enforcer,
        notices: Notices,
    ) -> None:
        self._config = config
        self._region = region
        self._counters = counters
        self._queries = queries
        self._locations = locations
        self._enforcer = enforcer
        self._notices = notices

    def handle(self, event: Any, *, account: str | None = None) -> Report:
        """Handle one EventBridge event (of `account`, when given); raise MalformedEvent if it is not one."""
        parsed = parse_event(event, account=account)
        if isinstance(parsed, Ignored):
            return Report("ignored", detail=parsed.why)
        if isinstance(parsed, QueryStarted):
            return self._started(parsed)
        return self._finished(parsed)

    def _started(self, started: QueryStarted) -> Report:
        if not self._counters.record_start(started):
            return Report("duplicate", started.query_id, "start already counted")
        quiet = quiet_hours_breach(self._config.caller_rules(started.caller.key), started.at)
        actions = self._caller_actions(
            started.caller, started.workgroup, started.at, started.query_id, [quiet] if quiet else []
        )
        return Report("counted", started.query_id, actions=self._apply(actions, started.event_id, started.at))

    def _finished(self, finished: QueryFinished) -> Report:
        known = self._counters.query(finished.query_id)
        if known is not None and known.finished_at is not None:
            return Report("duplicate", finished.query_id, "finish already counted")
        facts = self._queries.get(finished.query_id)
        if facts is None:
            return Report("unknown-query", finished.query_id, "Athena does not know this query id")
        remote = self._locations.remote_tables(facts, finished.region)
        cost = estimate(
            facts.scanned_bytes,
            cross_region=bool(remote),
            usd_per_tb=self._config.usd_per_tb,
            transfer_usd_per_gb=self._config.transfer_usd_per_gb,
        )
        booking = self._counters.record_finish(finished, cost, frozenset(remote.values()))
        if not booking.counted:
            return Report("duplicate", finished.query_id, "finish already counted")
        window = self._config.window_minutes
        totals = self._counters.totals(
            workgroup_scope(finished.workgroup), finished.at, window_minutes=window
        )
        breaches = limit_breaches(
            self._config.workgroup_rules(finished.workgroup), totals, window_minutes=window
        )
        evidence = describe(
            totals,
            window_minutes=window,
            workgroup=finished.workgroup,
            region=self._region,
            query_id=facts.query_id,
        )
        actions = workgroup_actions(self._config, finished.workgroup, breaches, evidence)
        if booking.caller is not None:
            actions += self._caller_actions(
                booking.caller, finished.workgroup, finished.at, finished.query_id, []
            )
        return Report(
            "counted", finished.query_id, actions=self._apply(actions, finished.event_id, finished.at)
        )

    def _caller_actions(
        self, caller: Caller, workgroup: str, at: datetime, query_id: str, breaches: list[Breach]
    ) -> list[Action]:
        window = self._config.window_minutes
        totals = self._counters.totals(caller_scope(caller.key), at, window_minutes=window)
        breaches = breaches + limit_breaches(
            self._config.caller_rules(caller.key), totals, window_minutes=window
        )
        cross_region = cross_region_breach(totals, self._region)
        if cross_region is not None:
            breaches.append(cross_region)
        evidence = describe(
            totals, window_minutes=window, workgroup=workgroup, region=self._region, query_id=query_id
        )
        evidence = {"caller": caller.arn, "caller_type": caller.identity_type, **evidence}
        return caller_actions(self._config, caller, workgroup, breaches, evidence)

    def _apply(self, actions: list[Action], event_id: str, at: datetime) -> list[dict[str, Any]]:
        done = []
        for action in actions:
            result = None
            if action.throttle_function:
                finding = Finding(
                    function=action.throttle_function,
                    detector=DETECTOR,
                    reason=action.reason,
                    observed_at=at,
                    evidence={"rules": action.rules, **action.evidence},
                    dedupe_key=f"{DETECTOR}:{event_id}:{action.rules}",
                )
                outcome = self._enforcer.throttle(finding)
                result = outcome.result.value
            if result is None or result == Result.NOT_FOUND.value:  # not a Lambda function after all
                result = self._notices.send(action, at)
            done.append({"subject": action.subject, "rules": action.rules, "result": result})
        return done
