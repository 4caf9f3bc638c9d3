"""Pure detection: window totals and one query's facts in, breaches and what to do about them out.

Nothing here calls AWS or reads a clock: every decision is made at the time carried by the event.
An `Action` becomes a Finding for the one enforcement path (throttle its Lambda caller, disable its
workgroup) or a Notice (a caller that is not a Lambda function, a cross-region read set to `alert`);
a finding carries what follows if it cannot act (`consequence`), and the Enforcer follows it.

A query's guard mark (`guardrail.recursion.query_mark`) is text anyone who can run a query can write.
It never makes the watch throttle: it names, in the evidence of the workgroup's alerts, the function
the query claims to come from, marked `verified: false` until CloudTrail's record of the same query
names that function as the caller (`verified: true`); a mark that names another function than the
verified caller is shown as `contradicted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrail.config.athena_watch import DETECTOR, AthenaWatchConfig, CrossRegionAction, Rules, Signature
from guardrail.detectors.athena.claims import QueryClaim
from guardrail.detectors.athena.cost import GB, usd
from guardrail.detectors.athena.query_events import Caller
from guardrail.domain import Condition, Expectation, Fallback, Finding, Notice, Target
from guardrail.recursion.query_mark import read_mark

RECENT_IDS_SHOWN = 10


class Rule(StrEnum):
    """The limit a breach broke."""

    QUERY_RATE = "query-rate"
    DAILY_QUERIES = "daily-queries"
    DAILY_COST = "daily-cost"
    QUIET_HOURS = "quiet-hours"
    CROSS_REGION = "cross-region"


@dataclass(frozen=True)
class Totals:
    """What one caller or workgroup did in the sliding window and in the last day."""

    window_queries: int = 0
    day_queries: int = 0
    day_scanned_bytes: int = 0
    day_cost_micros: int = 0
    day_cross_region_bytes: int = 0
    day_transfer_micros: int = 0
    remote_regions: frozenset[str] = frozenset()
    recent_query_ids: tuple[str, ...] = ()
    #: The distinct seconds the window's queries started in, in order (a caller's: its known starts).
    starts: tuple[datetime, ...] = ()
    #: The busiest pace (queries an hour) noted in the day's earlier hours, and in the current hour.
    earlier_pace: int = 0
    hour_pace: int = 0
    #: The queries started in the earlier hours that have a pace noted: what `earlier_pace` was read from.
    earlier_starts: int = 0


@dataclass(frozen=True)
class Breach:
    """One limit broken by one caller or workgroup, or one loop signature it matched.

    `enforce` False: alert only. `baseline`: for a loop signature, the baseline it left.
    """

    rule: Rule | Signature
    reason: str
    enforce: bool = True
    baseline: Mapping[str, Any] = field(default_factory=dict)
    #: Set: a condition that may recur; alerted, it is told once and then digested (`notice`).
    condition: Condition | None = None


@dataclass(frozen=True)
class Action:
    """What to do about a subject's breaches: throttle a function, or alert and maybe disable a workgroup.

    The function is throttled only if its execution role is `throttle_role_arn` (the caller's issuer).
    """

    breaches: tuple[Breach, ...]
    subject: str
    throttle_function: str | None = None
    throttle_role_arn: str = ""
    disable_workgroup: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> str:
        """The broken rules' names, joined: `query-rate+cross-region`."""
        return "+".join(b.rule.value for b in self.breaches)

    @property
    def reason(self) -> str:
        """Every breach's reason, in one line."""
        return "; ".join(b.reason for b in self.breaches)

    @property
    def condition(self) -> Condition | None:
        """The recurring condition an action of one breach is about (None: not one that recurs)."""
        return self.breaches[0].condition if len(self.breaches) == 1 else None


def limit_breaches(rules: Rules, totals: Totals, *, window_minutes: int) -> list[Breach]:
    """The count and cost limits that `totals` exceed."""
    found = []
    if totals.window_queries > rules.max_queries_per_window:
        found.append(
            Breach(
                Rule.QUERY_RATE,
                f"{totals.window_queries} queries in {window_minutes} min "
                f"(limit {rules.max_queries_per_window})",
            )
        )
    if totals.day_queries > rules.max_queries_per_day:
        found.append(
            Breach(
                Rule.DAILY_QUERIES,
                f"{totals.day_queries} queries in 24 h (limit {rules.max_queries_per_day})",
            )
        )
    if usd(totals.day_cost_micros) > rules.max_cost_per_day_usd:
        found.append(
            Breach(
                Rule.DAILY_COST,
                f"${usd(totals.day_cost_micros):,.2f} of Athena scans and transfer in 24 h "
                f"(limit ${rules.max_cost_per_day_usd:,.2f})",
            )
        )
    return found


def quiet_hours_breach(rules: Rules, started_at: datetime) -> Breach | None:
    """A breach when a query starts outside the caller's active hours."""
    hours = rules.active_hours_utc
    if hours is None or hours.contains(started_at.time()):
        return None
    return Breach(Rule.QUIET_HOURS, f"query at {started_at:%H:%M} UTC, outside active hours {hours} UTC")


def cross_region_breach(
    totals: Totals, athena_region: str, tables: Mapping[str, str] | None = None, size_bytes: int = 0
) -> Breach | None:
    """A breach when a caller's queries read data stored outside the region Athena runs in.

    `tables`: the remote tables (`database.table` -> region) the query at hand read, known once it
    finished, and `size_bytes` the bytes it moved: the condition the breach is (the caller reading
    those tables into this region), told once and then digested when alerted.
    """
    if not totals.remote_regions:
        return None
    regions = ", ".join(sorted(totals.remote_regions))
    condition = None
    if tables:
        read = sorted(f"{table} ({region})" for table, region in tables.items())
        condition = Condition(
            parts=(Rule.CROSS_REGION.value, athena_region, *read),
            size_bytes=size_bytes,
            summary=f"cross-region read of {', '.join(read)} into Athena in {athena_region}",
        )
    return Breach(
        Rule.CROSS_REGION,
        f"read {totals.day_cross_region_bytes / GB:,.1f} GB stored in {regions} "
        f"into Athena in {athena_region} in 24 h (~${usd(totals.day_transfer_micros):,.2f} transfer)",
        condition=condition,
    )


def caller_actions(
    config: AthenaWatchConfig,
    caller: Caller,
    workgroup: str,
    breaches: list[Breach],
    evidence: Mapping[str, Any],
) -> list[Action]:
    """What to do about a caller's breaches: throttle a Lambda function, else alert (and disable).

    Breaches that enforce are combined into one action; the alerted ones into another, except that
    each recurring condition (`Breach.condition`, `informing`) is an action of its own.
    """
    breaches = [informing(b) for b in breaches]
    cross_region = config.cross_region
    enforced = tuple(
        b
        for b in breaches
        if b.enforce and (b.rule is not Rule.CROSS_REGION or cross_region is CrossRegionAction.THROTTLE)
    )
    alerted = tuple(
        b
        for b in breaches
        if not b.enforce or (b.rule is Rule.CROSS_REGION and cross_region is CrossRegionAction.ALERT)
    )
    evidence = with_signatures(evidence, breaches)
    disable = config.workgroup_rules(workgroup).disable_on_runaway  # used only if no function is throttled
    actions = []
    if enforced:
        actions.append(
            Action(
                breaches=enforced,
                subject=caller.key,
                throttle_function=caller.function,
                throttle_role_arn=caller.arn,
                disable_workgroup=workgroup if disable else None,
                evidence=evidence,
            )
        )
    plain = tuple(b for b in alerted if b.condition is None)
    if plain:
        actions.append(Action(breaches=plain, subject=caller.key, evidence=evidence))
    recurring = [b for b in alerted if b.condition is not None]
    actions += [Action(breaches=(b,), subject=caller.key, evidence=evidence) for b in recurring]
    return actions


def workgroup_actions(
    config: AthenaWatchConfig, workgroup: str, breaches: list[Breach], evidence: Mapping[str, Any]
) -> list[Action]:
    """What to do about a workgroup's own breaches: alert, and disable it where configured.

    A signature that only informs (`informing`) is an alert of its own, never a reason to disable.
    """
    breaches = [informing(b) for b in breaches]
    plain = [b for b in breaches if b.condition is None]
    subject = f"workgroup {workgroup}"
    actions = []
    if plain:
        disable = config.workgroup_rules(workgroup).disable_on_runaway and any(b.enforce for b in plain)
        actions.append(
            Action(
                breaches=tuple(plain),
                subject=subject,
                disable_workgroup=workgroup if disable else None,
                evidence=with_signatures(evidence, plain),
            )
        )
    recurring = [b for b in breaches if b.condition is not None]
    actions += [Action((b,), subject, evidence=with_signatures(evidence, [b])) for b in recurring]
    return actions


#: Loop signatures that inform when they alert (their default): a trend over days, a late hour. The
#: decisions on a loop are the throttling signatures' (`overrun` for a run that goes on).
INFORMING = (Signature.GROWTH, Signature.AFTER_WINDOW)


def informing(breach: Breach) -> Breach:
    """An alerted informing signature as a recurring condition (see `guardrail.enforcement.known`).

    `steady-growth` is told in the daily digest only: a trend over days needs no decision within the
    day. `after-usual-window` is told in full once per subject and usual hours, then in the digest.
    """
    if breach.enforce or breach.rule not in INFORMING or breach.condition is not None:
        return breach
    if breach.rule is Signature.GROWTH:
        condition = Condition((str(breach.rule),), summary=f"loop signature {breach.rule}", in_full=False)
    else:
        hours = ",".join(f"{hour:02d}" for hour in breach.baseline.get("usual_hours_utc", ()))
        summary = f"loop signature {breach.rule} (usual hours {hours} UTC)"
        condition = Condition((str(breach.rule), hours), summary=summary)
    return replace(breach, condition=condition)


def with_signatures(evidence: Mapping[str, Any], breaches: list[Breach]) -> Mapping[str, Any]:
    """The evidence, with each loop signature matched and the baseline it left (`loop_signatures`)."""
    found = [
        {"signature": str(b.rule), "reason": b.reason, "baseline_left": dict(b.baseline)}
        for b in breaches
        if b.baseline
    ]
    return {**evidence, "loop_signatures": found} if found else evidence


def describe(
    totals: Totals, *, window_minutes: int, workgroup: str, region: str, query_id: str
) -> dict[str, Any]:
    """The evidence an alert shows: counts, bytes, cost so far, regions and query ids."""
    evidence: dict[str, Any] = {
        "workgroup": workgroup,
        "region": region,
        "query_id": query_id,
        f"queries_last_{window_minutes}_min": totals.window_queries,
        "queries_last_24_h": totals.day_queries,
        "scanned_gb_last_24_h": round(totals.day_scanned_bytes / GB, 1),
        "cost_usd_last_24_h": usd(totals.day_cost_micros),
        "recent_query_ids": list(totals.recent_query_ids[-RECENT_IDS_SHOWN:]),
    }
    if totals.remote_regions:
        evidence["cross_region"] = {
            "data_regions": sorted(totals.remote_regions),
            "athena_region": region,
            "transferred_gb_last_24_h": round(totals.day_cross_region_bytes / GB, 1),
            "transfer_usd_last_24_h": usd(totals.day_transfer_micros),
        }
    return evidence


def mark_evidence(sql: str, caller: Caller | None) -> dict[str, Any]:
    """`{"query_mark": ...}` for a marked query (empty for an unmarked one), against its verified caller."""
    mark = read_mark(sql)
    if mark is None:
        return {}
    shown: dict[str, Any] = {"claimed_function": mark.function, "chain_id": mark.chain_id}
    if caller is None:
        shown |= {
            "verified": False,
            "note": "claimed by the query's text, not verified: nothing throttled on it",
        }
    elif caller.function == mark.function:
        shown |= {"verified": True}
    else:
        shown |= {"verified": False, "contradicted": True, "caller": caller.arn}
    return {"query_mark": shown}


def consequence(
    action: Action, at: datetime, event_id: str, place: tuple[str, str], guard_layer: str | None = None
) -> Finding | Notice:
    """What enforcement is asked to do about an action, in the event's account and region (`place`).

    Throttle its Lambda caller; if that function is not there or not the caller (another role, or
    not running the guard), disable its workgroup where configured; if there is none to disable (or
    it is gone, or exempt), tell people. Each step is the fallback of the one before (`Fallback`):
    the Enforcer follows them, the watch reads no outcome to choose.
    """
    function, workgroup = action.throttle_function, action.disable_workgroup
    step: Finding | Notice = notice(action, at, place)
    if workgroup:
        disable = workgroup_finding(action, workgroup, at, event_id, place)
        step = replace(disable, fallback=Fallback(step, if_exempt=True))
    if function:
        throttle = caller_finding(action, function, at, event_id, place, guard_layer=guard_layer)
        step = replace(throttle, fallback=Fallback(step))
    return step


def caller_finding(
    action: Action,
    function: str,
    at: datetime,
    event_id: str,
    place: tuple[str, str],
    *,
    guard_layer: str | None = None,
) -> Finding:
    """Throttle the Lambda function behind a caller's breaches, if it runs with the caller's role; once.

    `guard_layer` (a start the guard claimed): the function must also run the guard.
    """
    return Finding(
        target=Target.function(function, *place),
        detector=DETECTOR,
        reason=action.reason,
        observed_at=at,
        evidence={"rules": action.rules, **action.evidence},
        dedupe_key=f"{DETECTOR}:{event_id}:{action.rules}",
        expect=Expectation(role_arn=action.throttle_role_arn, guard_layer=guard_layer),
    )


def claim_finding(claim: QueryClaim) -> Finding:
    """The function an `Athena Query Started` claim names, for alerting the claim as unverified."""
    return Finding(
        target=Target.function(claim.function),
        detector=DETECTOR,
        reason=f"an {claim.evidence()['signal']!r} event names {claim.function} as the caller of query "
        f"{claim.query_id}",
        observed_at=claim.at,
        evidence=claim.evidence(),
        dedupe_key=f"{DETECTOR}:claim:{claim.event_id}",
    )


def workgroup_finding(
    action: Action, workgroup: str, at: datetime, event_id: str, place: tuple[str, str]
) -> Finding:
    """Disable the workgroup a runaway ran in; once per event and rules."""
    return Finding(
        target=Target.workgroup(workgroup, *place),
        detector=DETECTOR,
        reason=f"{action.subject}: {action.reason}",
        observed_at=at,
        evidence={"rules": action.rules, "subject": action.subject, **action.evidence},
        dedupe_key=f"{DETECTOR}:{event_id}:{action.rules}:workgroup",
    )


def notice(action: Action, at: datetime, place: tuple[str, str]) -> Notice:
    """Tell people about breaches nothing is done about: once per subject and rules per hour.

    Cross-region reads alone are told once a day; a recurring condition once, then in the daily
    digest (`guardrail.enforcement.known`).
    """
    condition = action.condition
    daily = all(b.rule is Rule.CROSS_REGION for b in action.breaches)
    period = f"{at:%Y-%m-%d}" if daily else f"{at:%Y-%m-%dT%H}"
    return Notice(
        subject=action.subject,
        detector=DETECTOR,
        reason=action.reason,
        observed_at=at,
        evidence={"rules": action.rules, **action.evidence},
        dedupe_key=None if condition else f"{DETECTOR}:notice:{action.rules}:{action.subject}:{period}",
        condition=condition,
        account=place[0],
        region=place[1],
    )
