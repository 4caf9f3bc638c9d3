"""The Athena watch: books each event once, reads the windows, decides, and acts on the decision.

Booking is exactly-once: a counter a failed delivery did not add is added by the next delivery of the
query (`CounterStore.settled`). So is the decision: the booking notes its half decided as it writes
it, so a copy that comes while the first delivery decides is a duplicate. A delivery that fails after
its booking (a counter, a window read, an action) takes that note back before it raises for Lambda's
retry, and the retry reads the windows and applies the actions again, then notes the half decided: a
failed throttle is retried, never taken for a duplicate. The Enforcer's dedupe keys
(`athena-watch:<event id>:<rules>`) make an action that did succeed the first time a no-op, and a
failed one released its key. Only a delivery killed after its booking (a timeout) leaves counters
unadded or its decision unmade: the caller's next event decides on its windows, and an action it had
begun is finished by the Enforcer's reconciliation of `applying` records.

A verified `Athena Query Started` claim of the recursion guard (`claims.py`) is booked as the query's
start, as CloudTrail's StartQueryExecution is, seconds earlier; an unverified one books nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from guardrail.config.athena_watch import AthenaWatchConfig, CrossRegionAction, Rules
from guardrail.detectors.athena.booking import (
    FINISH,
    START,
    ActionsFailed,
    Booking,
    QueryFacts,
    QueryRecord,
    Report,
    caller_scope,
    workgroup_scope,
)
from guardrail.detectors.athena.claims import ClaimCheck, QueryClaim, parse_claim
from guardrail.detectors.athena.cost import QueryCost, estimate
from guardrail.detectors.athena.detect import (
    Action,
    Breach,
    Rule,
    Totals,
    caller_actions,
    claim_finding,
    consequence,
    cross_region_breach,
    describe,
    limit_breaches,
    mark_evidence,
    quiet_hours_breach,
    workgroup_actions,
)
from guardrail.detectors.athena.ports import (
    BaselineStore,
    CounterStore,
    LocationLookup,
    Place,
    Places,
    QueryLookup,
)
from guardrail.detectors.athena.query_events import (
    Caller,
    Ignored,
    MalformedEvent,
    QueryFinished,
    QueryStarted,
    parse_event,
)
from guardrail.detectors.athena.signatures import densest, loop_breaches
from guardrail.domain import Notice, Result, Target, TargetFacts
from guardrail.enforcement.enforcer import Enforcer
from guardrail.recursion.query_started import QUERY_STARTED
from guardrail.scope import Scope

#: The tables a finished query read from other regions (`database.table` -> region), and the bytes moved.
ReadAway = tuple[Mapping[str, str], int]
#: Cross-region finishes a container keeps for their starts (CloudTrail's come 20-75 s later) and retries.
_READ_AWAY_KEPT = 1024


class AthenaWatch:
    """Turns Athena events into counts, and counts over the limits into throttles and alerts.

    `functions` reads a function's configuration where it is (its role, layers and tags): what the
    guard's claims are verified against. `enforcer` is given findings and notices, and asked nothing.
    """

    def __init__(
        self,
        *,
        config: AthenaWatchConfig,
        region: str,
        counters: CounterStore,
        queries: QueryLookup,
        locations: LocationLookup,
        enforcer: Enforcer,
        functions: Callable[[Target], TargetFacts],
        baselines: BaselineStore | None = None,
        home: Scope | None = None,
        elsewhere: Callable[[str, str], tuple[QueryLookup, LocationLookup]] | None = None,
    ) -> None:
        self._config = config
        self._region = region
        self._home = home  # where the guardrail runs and what it watches (None: this region alone)
        self._places = Places(home, queries, locations, elsewhere)
        self._counters = counters
        self._enforcer = enforcer
        self._baselines = baselines
        self._claims = ClaimCheck(functions)
        self._read_away: OrderedDict[str, ReadAway] = OrderedDict()  # by query id, oldest first

    def handle(
        self, event: Any, *, account: str | None = None, scope: Scope | None = None, guard_layer: str = ""
    ) -> Report:
        """Handle one EventBridge event (of `account`, when given); raise MalformedEvent if it is not one.

        `scope` is where the guardrail acts and `guard_layer` the guard's layer ARN: an `Athena Query
        Started` claim is verified against both (without a scope, every claim is unverified).
        Raises ActionsFailed when an action failed, so that Lambda retries the delivery: the booking
        is never repeated, and the decision is made again until one delivery has carried it out.
        """
        scope = scope or self._home
        self._enforcer.send_digest()  # the first delivery after a day ends sends its digest, once
        if isinstance(event, dict) and event.get("detail-type") == QUERY_STARTED:
            where = scope or Scope(account or "", self._region)
            return self._claimed(parse_claim(event), where, guard_layer)
        parsed = parse_event(event, account=None if scope is not None else account)
        if isinstance(parsed, Ignored):
            return Report("ignored", detail=parsed.why)
        if scope is not None and not scope.admits(account=parsed.account, region=parsed.region):
            origin = f"account {parsed.account[:100]!r}, region {parsed.region[:100]!r}"
            raise MalformedEvent(f"event {parsed.event_id} is from {origin}; this guardrail acts in {scope}")
        if isinstance(parsed, QueryStarted):
            return self._started(parsed)
        return self._finished(parsed)

    def _claimed(self, claim: QueryClaim, scope: Scope, guard_layer: str) -> Report:
        """Book a verified claim as the query's start; alert an unverified one and book nothing."""
        doubt, role = self._claims.verify(claim, scope=scope, guard_layer=guard_layer)
        if doubt is None:
            return self._started(claim.started(role), guard_layer=guard_layer)
        outcome = self._enforcer.enforce(claim_finding(claim).unverified(doubt))
        if outcome.result is Result.ERROR:
            raise ActionsFailed(f"event {claim.event_id}: the unverified alert was not sent")
        done = [{"subject": claim.function, "rules": "claim", "result": outcome.result.value}]
        return Report("unverified", claim.query_id, doubt, done)

    def _started(self, started: QueryStarted, *, guard_layer: str | None = None) -> Report:
        booked = self._counters.record_start(started, away=self._places.away(self._places.of(started)))
        if not booked and self._decided(started.query_id, START):
            return Report("duplicate", started.query_id, "start already counted")
        with self._deciding(started.query_id, START, booked):
            place = self._places.of(started)
            quiet = quiet_hours_breach(self._caller_rules(started.caller, place), started.at)
            actions = self._caller_actions(
                started.caller,
                started.workgroup,
                started.at,
                started.query_id,
                [quiet] if quiet else [],
                place=place,
                sql=started.query,
            )
            return self._carry_out(actions, booked, started, START, guard_layer)

    def _finished(self, finished: QueryFinished) -> Report:
        known, place = self._counters.settled(finished.query_id), self._places.of(finished)
        away: ReadAway = ({}, 0)
        if known is not None and known.finished_at is not None:  # booked: ask Athena nothing again
            if FINISH in known.decided:
                return Report("duplicate", finished.query_id, "finish already counted")
            booking, sql = Booking(counted=False, caller=known.caller), ""
            # the tables it read, if this container kept them; else the read is told by the caller's
            # next cross-region query (a notice that failed gave its condition back)
            away = self._read_away.pop(finished.query_id, away)
        else:
            facts = self._places.lookups(place)[0].get(finished.query_id)
            if facts is None:
                return Report("unknown-query", finished.query_id, "Athena does not know this query id")
            remote, cost = self._read_away_of(place, facts)
            away = _moved((remote, cost))
            booking, sql = self._book_finish(finished, facts, remote, cost, known), facts.query
            self._keep(finished.query_id, away)  # for its start (`_away_of`), or a retry
            if not booking.counted and self._decided(finished.query_id, FINISH):
                return Report("duplicate", finished.query_id, "finish already counted")
        with self._deciding(finished.query_id, FINISH, booking.counted):
            return self._decide_finish(finished, booking, sql, away, place)

    def _decide_finish(
        self, finished: QueryFinished, booking: Booking, sql: str, away: ReadAway, place: Place
    ) -> Report:
        """Read the workgroup's windows (and the billed caller's), decide, and carry the decision out."""
        window = self._config.window_minutes
        scope = workgroup_scope(self._places.scoped(finished.workgroup, place))
        totals = self._counters.totals(scope, finished.at, window_minutes=window)
        breaches = limit_breaches(
            self._config.workgroup_rules(finished.workgroup), totals, window_minutes=window
        )
        breaches += self._loops(scope, finished.at, totals, sql, throttle=False)
        evidence = describe(
            totals,
            window_minutes=window,
            workgroup=finished.workgroup,
            region=finished.region,
            query_id=finished.query_id,
        )
        evidence |= mark_evidence(sql, booking.caller)
        actions = workgroup_actions(self._config, finished.workgroup, breaches, evidence)
        if booking.caller is not None:
            actions += self._caller_actions(
                booking.caller,
                finished.workgroup,
                finished.at,
                finished.query_id,
                [],
                place=place,
                sql=sql,
                away=away,
            )
        return self._carry_out(actions, booking.counted, finished, FINISH)

    def _decided(self, query_id: str, half: str) -> bool:
        record = self._counters.query(query_id)
        return record is not None and half in record.decided

    @contextmanager
    def _deciding(self, query_id: str, half: str, booked: bool) -> Iterator[None]:
        """Make the decision; when it fails, take back the decided note its booking wrote, then raise."""
        try:
            yield
        except Exception:
            if booked:
                self._counters.undecided(query_id, half)
            raise

    def _carry_out(
        self,
        actions: list[Action],
        booked: bool,
        event: QueryStarted | QueryFinished,
        half: str,
        guard_layer: str | None = None,
    ) -> Report:
        """Apply the decision's actions; a retry then notes it made (not if an action failed: it raises).

        `guard_layer`: the start came from the guard's claim; a throttle expects the function to run it.
        """
        done = self._apply(actions, event.event_id, event.at, guard_layer, self._places.of(event))
        if booked:  # its booking noted it decided
            return Report("counted", event.query_id, actions=done)
        self._counters.mark_decided(event.query_id, half)
        return Report("retried", event.query_id, f"{half} already counted; decided now", done)

    def _read_away_of(self, place: Place, facts: QueryFacts) -> tuple[dict[str, str], QueryCost]:
        """The tables the query read from other regions (`database.table` -> region), and its cost."""
        remote = self._places.lookups(place)[1].remote_tables(facts, place[1])
        cost = estimate(
            facts.scanned_bytes,
            cross_region=bool(remote),
            usd_per_tb=self._config.usd_per_tb,
            transfer_usd_per_gb=self._config.transfer_usd_per_gb,
            state=facts.state,
            statement_type=facts.statement_type,
        )
        return remote, cost

    def _book_finish(
        self,
        finished: QueryFinished,
        facts: QueryFacts,
        remote: Mapping[str, str],
        cost: QueryCost,
        known: QueryRecord | None,
    ) -> Booking:
        """Book what the query cost and where its data came from (once), planned on the record `known`."""
        away = self._places.away(self._places.of(finished))
        return self._counters.record_finish(
            finished, cost, frozenset(remote.values()), facts.query, away=away, read=known or QueryRecord()
        )

    def _caller_rules(self, caller: Caller, place: Place) -> Rules:
        """The caller's rules where it ran: a bare name's override holds in the home account only."""
        partition = self._home.partition if self._home else "aws"
        arn = (
            f"arn:{partition}:lambda:{place[1]}:{place[0]}:function:{caller.function}"
            if caller.function
            else None
        )
        at_home = self._home is None or place[0] == self._home.account
        return self._config.caller_rules(caller.name, function_arn=arn, at_home=at_home)

    def _caller_actions(
        self,
        caller: Caller,
        workgroup: str,
        at: datetime,
        query_id: str,
        breaches: list[Breach],
        *,
        place: Place,
        sql: str = "",
        away: ReadAway | None = None,
    ) -> list[Action]:
        """The caller's breaches and what to do about them.

        `away`: what the query at hand read from other regions, when its finish is handled now (None:
        its start; looked up if its finish was booked first and the caller read across regions today).
        """
        window = self._config.window_minutes
        scope = caller_scope(self._places.scoped(caller.key, place))
        totals = self._counters.totals(scope, at, window_minutes=window)
        breaches = breaches + limit_breaches(self._caller_rules(caller, place), totals, window_minutes=window)
        breaches += self._loops(scope, at, totals, sql, throttle=caller.function is not None)
        self._note_pace(scope, at, totals, breaches)
        alerting = self._config.cross_region is not CrossRegionAction.THROTTLE
        if away is None and alerting and totals.remote_regions:
            away = self._away_of(query_id, place)
        cross_region = cross_region_breach(totals, place[1], *(away or ({}, 0)))
        # alerted once per query that read across regions, by the half booked second (which knows both
        # the caller and the tables); the other events of the caller's day only repeat it
        if cross_region is not None and not (alerting and cross_region.condition is None):
            breaches.append(cross_region)
        evidence = describe(
            totals, window_minutes=window, workgroup=workgroup, region=place[1], query_id=query_id
        )
        evidence = {"caller": caller.arn, "caller_type": caller.identity_type, **evidence}
        evidence |= mark_evidence(sql, caller)
        return caller_actions(self._config, caller, workgroup, breaches, evidence)

    def _keep(self, query_id: str, away: ReadAway) -> None:
        """Keep what a finished query read across regions for its start, in this container (bounded)."""
        if away[0]:
            self._read_away[query_id] = away
            while len(self._read_away) > _READ_AWAY_KEPT:
                self._read_away.popitem(last=False)

    def _away_of(self, query_id: str, place: Place) -> ReadAway:
        """What a query whose finish was booked before its start read from other regions.

        Kept from its finish by this container; else (another container booked it) asked again.
        """
        if (kept := self._read_away.pop(query_id, None)) is not None:
            return kept
        record = self._counters.query(query_id)
        if record is None or record.spend is None or not record.spend.remote_regions:
            return {}, 0
        facts = self._places.lookups(place)[0].get(query_id)
        return ({}, 0) if facts is None else _moved(self._read_away_of(place, facts))

    def _note_pace(self, scope: str, at: datetime, totals: Totals, breaches: list[Breach]) -> None:
        """Note the caller's pace as its busiest of the hour, when it is; never a pace that broke a rule.

        What `acceleration` compares with in the following hours: a loop's pace is not one to learn.
        """
        learning = self._config.baselines
        if not learning.enabled or any(b.rule not in (Rule.CROSS_REGION, Rule.QUIET_HOURS) for b in breaches):
            return
        pace = densest(totals.starts)
        if pace is not None and pace.per_hour > totals.hour_pace:
            self._counters.note_pace(scope, at, pace.per_hour)

    def _loops(self, scope: str, at: datetime, totals: Totals, sql: str, *, throttle: bool) -> list[Breach]:
        """The loop signatures the scope matches against its learned baseline (none without a store)."""
        if self._baselines is None:
            return []
        return loop_breaches(
            self._baselines,
            self._config.baselines,
            scope,
            at,
            totals,
            window_minutes=self._config.window_minutes,
            sql=sql,
            may_throttle=throttle,
        )

    def _apply(
        self,
        actions: list[Action],
        event_id: str,
        at: datetime,
        guard_layer: str | None,
        place: Place,
    ) -> list[dict[str, Any]]:
        """Carry out every action, then raise ActionsFailed if any failed (its dedupe key is released).

        Every target is in the event's own account and region (`place`). An action's finding carries
        its fallbacks (`consequence`): the Enforcer follows them; an action with nothing to act on is a
        notice.
        """
        done, failed = [], []
        for action in actions:
            step = consequence(action, at, event_id, place, guard_layer)
            if isinstance(step, Notice):
                result = self._enforcer.notify(step)
                error = "the notice was not sent" if result is Result.ERROR else None
            else:
                outcome = self._enforcer.enforce(step)
                result, error = outcome.result, outcome.error
            done.append({"subject": action.subject, "rules": action.rules, "result": result.value})
            if result is Result.ERROR:
                failed.append(f"{action.subject} ({action.rules}): {error}")
        if failed:
            raise ActionsFailed(f"event {event_id}: " + "; ".join(failed))
        return done


def _moved(read: tuple[dict[str, str], QueryCost]) -> ReadAway:
    """The remote tables a query read and the bytes it moved across regions."""
    remote, cost = read
    return remote, cost.cross_region_bytes
