"""The Athena watch: books each event once, reads the windows, decides, and acts on the decision.

Booking is exactly-once, and so is the decision once carried out: after its actions succeed, the
delivery notes the half decided on the query's record. A delivery that failed after its booking was
written (a window read, an action) raises for Lambda's retry without that note, and the retry reads the
windows and applies the actions again: a failed throttle is retried, never taken for a duplicate. The
Enforcer's dedupe keys (`athena-watch:<event id>:<rules>`) make an action that did succeed the first
time a no-op, and a failed one released its key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.config.athena_watch import AthenaWatchConfig
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
from guardrail.detectors.athena.model import (
    ActionsFailed,
    Booking,
    QueryFacts,
    caller_scope,
    workgroup_scope,
)
from guardrail.detectors.athena.notices import caller_finding, notice, workgroup_finding
from guardrail.detectors.athena.ports import CounterStore, LocationLookup, QueryLookup
from guardrail.domain import Outcome, Result
from guardrail.enforcement.enforcer import Enforcer


@dataclass(frozen=True)
class Report:
    """What one event led to, and the actions: `counted`, `duplicate`, `retried`, `ignored`, `unknown-query`.

    `retried`: an earlier delivery booked the event but failed before its decision was carried out;
    the decision is made now.
    """

    status: str
    query_id: str = ""
    detail: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)


START, FINISH = "start", "finish"  # a query's halves, as noted in its record's `decided`


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
    ) -> None:
        self._config = config
        self._region = region
        self._counters = counters
        self._queries = queries
        self._locations = locations
        self._enforcer = enforcer

    def handle(self, event: Any, *, account: str | None = None) -> Report:
        """Handle one EventBridge event (of `account`, when given); raise MalformedEvent if it is not one.

        Raises ActionsFailed when an action failed, so that Lambda retries the delivery: the booking
        is never repeated, and the decision is made again until one delivery has carried it out.
        """
        parsed = parse_event(event, account=account)
        if isinstance(parsed, Ignored):
            return Report("ignored", detail=parsed.why)
        if isinstance(parsed, QueryStarted):
            return self._started(parsed)
        return self._finished(parsed)

    def _started(self, started: QueryStarted) -> Report:
        booked = self._counters.record_start(started)
        if not booked and self._decided(started.query_id, START):
            return Report("duplicate", started.query_id, "start already counted")
        quiet = quiet_hours_breach(self._config.caller_rules(started.caller.name), started.at)
        actions = self._caller_actions(
            started.caller, started.workgroup, started.at, started.query_id, [quiet] if quiet else []
        )
        return self._carry_out(actions, booked, started, START)

    def _finished(self, finished: QueryFinished) -> Report:
        known = self._counters.query(finished.query_id)
        if known is not None and known.finished_at is not None:  # booked: ask Athena nothing again
            if FINISH in known.decided:
                return Report("duplicate", finished.query_id, "finish already counted")
            booking = Booking(counted=False, caller=known.caller)
        else:
            facts = self._queries.get(finished.query_id)
            if facts is None:
                return Report("unknown-query", finished.query_id, "Athena does not know this query id")
            booking = self._book_finish(finished, facts)
            if not booking.counted and self._decided(finished.query_id, FINISH):
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
            query_id=finished.query_id,
        )
        actions = workgroup_actions(self._config, finished.workgroup, breaches, evidence)
        if booking.caller is not None:
            actions += self._caller_actions(
                booking.caller, finished.workgroup, finished.at, finished.query_id, []
            )
        return self._carry_out(actions, booking.counted, finished, FINISH)

    def _decided(self, query_id: str, half: str) -> bool:
        record = self._counters.query(query_id)
        return record is not None and half in record.decided

    def _carry_out(
        self, actions: list[Action], booked: bool, event: QueryStarted | QueryFinished, half: str
    ) -> Report:
        """Apply the decision's actions, then note it carried out (not if an action failed: it raises)."""
        done = self._apply(actions, event.event_id, event.at)
        self._counters.mark_decided(event.query_id, half)
        if booked:
            return Report("counted", event.query_id, actions=done)
        return Report("retried", event.query_id, f"{half} already counted; decided now", done)

    def _book_finish(self, finished: QueryFinished, facts: QueryFacts) -> Booking:
        """Estimate what the query cost, where its data came from, and book it (once)."""
        remote = self._locations.remote_tables(facts, finished.region)
        cost = estimate(
            facts.scanned_bytes,
            cross_region=bool(remote),
            usd_per_tb=self._config.usd_per_tb,
            transfer_usd_per_gb=self._config.transfer_usd_per_gb,
            state=facts.state,
            statement_type=facts.statement_type,
        )
        return self._counters.record_finish(finished, cost, frozenset(remote.values()))

    def _caller_actions(
        self, caller: Caller, workgroup: str, at: datetime, query_id: str, breaches: list[Breach]
    ) -> list[Action]:
        window = self._config.window_minutes
        totals = self._counters.totals(caller_scope(caller.key), at, window_minutes=window)
        breaches = breaches + limit_breaches(
            self._config.caller_rules(caller.name), totals, window_minutes=window
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
        """Apply every action, then raise ActionsFailed if any failed (its dedupe key is released)."""
        done, failed = [], []
        for action in actions:
            outcome = None
            if action.throttle_function:
                finding = caller_finding(action, action.throttle_function, at, event_id)
                outcome = self._enforcer.enforce(finding)
            if outcome is None or outcome.result in (Result.NOT_FOUND, Result.UNVERIFIED):
                # not a Lambda function after all (or not with its role): the caller is the principal
                result, error = self._without_function(action, event_id, at, outcome)
            else:
                result, error = outcome.result, outcome.error
            done.append({"subject": action.subject, "rules": action.rules, "result": result.value})
            if result is Result.ERROR:
                failed.append(f"{action.subject} ({action.rules}): {error}")
        if failed:
            raise ActionsFailed(f"event {event_id}: " + "; ".join(failed))
        return done

    def _without_function(
        self, action: Action, event_id: str, at: datetime, refused: Outcome | None
    ) -> tuple[Result, str | None]:
        """Disable the workgroup where configured; otherwise (or if it cannot be) send a notice.

        A candidate refused as unverified was alerted as such already: that alert is its notice.
        """
        if action.disable_workgroup:
            finding = workgroup_finding(action, action.disable_workgroup, at, event_id)
            outcome = self._enforcer.enforce(finding)
            if outcome.result not in (Result.NOT_FOUND, Result.EXEMPT):
                return outcome.result, outcome.error
        if refused is not None and refused.result is Result.UNVERIFIED:
            return refused.result, refused.error
        result = self._enforcer.notify(notice(action, at))
        return result, "the notice was not sent" if result is Result.ERROR else None
