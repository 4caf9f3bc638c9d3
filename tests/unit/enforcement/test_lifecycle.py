"""The record's state machine, every state by every event, on the in-memory ledger.

The table (`TRANSITIONS`) is checked as a table; then every state a record can be found in is met by
every request that can meet it (an automatic finding, the kill switch's throttle and panic, a
restore, the scheduled reconciliation), and the kill switch in every context that holds automatic
findings back (global notify-only, per-account notify-only, a paused account, the breaker open).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from guardrail.account_pause import AccountPause
from guardrail.domain import ActionRecord, BreakerSlot, Result, Status, Target
from guardrail.enforcement.lifecycle import TRANSITIONS, Event, IllegalTransition, Lifecycle, next_state
from guardrail.enforcement.reconcile import reconcile
from tests.unit.enforcement.conftest import ACCOUNT, REGION, Memory

PRIOR = 7
STATES = [
    "none",
    "applying",
    "applying-stale",
    "throttled",
    "drifted",
    "flagged-notify-only",
    "flagged-by-breaker",
    "restoring",
    "restoring-stale",
]


def test_the_table_names_a_next_state_for_every_allowed_move_and_refuses_every_other():
    for status in Status:
        for event in Event:
            if (status, event) in TRANSITIONS:
                assert next_state(status, event) == TRANSITIONS[(status, event)]
            else:
                with pytest.raises(IllegalTransition):
                    next_state(status, event)
    reached = {to for to in TRANSITIONS.values() if to is not None}
    assert reached == set(Status)  # every state is reachable
    leaving = {status for status, _ in TRANSITIONS}
    assert leaving == set(Status)  # and none is terminal: restored takes a new claim


@pytest.mark.parametrize(("status", "event"), sorted(TRANSITIONS, key=str))
def test_every_allowed_move_is_a_conditional_write_that_a_second_mover_loses(memory, status, event):
    target = memory.function("batch", PRIOR)
    record = _record(target, status, memory)
    memory.ledger.records.by_target.clear()
    memory.ledger.claim(record, replacing=None)
    lifecycle = memory.enforcer().lifecycle
    to = TRANSITIONS[(status, event)]
    if to is None or (status is Status.RESTORED and event in (Event.CLAIM, Event.FLAG)):
        with pytest.raises(IllegalTransition):  # a claim or a release, never a move
            lifecycle.move(record, event)
        return
    moved = lifecycle.move(record, event)
    assert moved is not None
    assert memory.ledger.get(target).status is to
    assert memory.ledger.get(target).prior == PRIOR
    assert lifecycle.move(record, event) is None  # the record is no longer as this mover read it


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.RESTORED])
def test_a_move_the_table_does_not_list_is_refused_before_the_ledger_is_touched(memory, status):
    target = memory.function("batch", PRIOR)
    record = _record(target, status, memory)
    lifecycle: Lifecycle = memory.enforcer().lifecycle
    for event in Event:
        if (status, event) not in TRANSITIONS:
            with pytest.raises(IllegalTransition):
                lifecycle.move(record, event)
    assert memory.ledger.get(target).status is status


#: An automatic finding, breaker closed: (result, record state after, reservation after).
AUTOMATIC = {
    "none": (Result.THROTTLED, Status.ENFORCED, 0),
    "applying": (Result.THROTTLED, Status.ENFORCED, 0),
    "applying-stale": (Result.THROTTLED, Status.ENFORCED, 0),
    "throttled": (Result.ALREADY_THROTTLED, Status.ENFORCED, 0),
    "drifted": (Result.DRIFT, Status.ENFORCED, 0),
    "flagged-notify-only": (Result.THROTTLED, Status.ENFORCED, 0),  # notify-only was lifted since
    "flagged-by-breaker": (Result.THROTTLED, Status.ENFORCED, 0),
    "restoring": (Result.IN_PROGRESS, Status.RESTORING, 0),
    "restoring-stale": (Result.IN_PROGRESS, Status.RESTORING, 0),
}


@pytest.mark.parametrize("state", STATES)
def test_an_automatic_finding_in_every_state(memory, state):
    target = _in_state(memory, state)
    outcome = memory.enforcer().enforce(memory.finding(target))
    _expect(memory, target, AUTOMATIC[state], outcome.result)
    if state.startswith("flagged"):
        [applied] = [a for a in memory.topic.sent if a.document["event_type"] == "throttled"]
        assert "it waited" in applied.document["reason"]


#: The kill switch's throttle (or panic), in any context: (result, state after, reservation after).
OPERATOR = {
    "none": (Result.THROTTLED, Status.ENFORCED, 0),
    "applying": (Result.THROTTLED, Status.ENFORCED, 0),
    "applying-stale": (Result.THROTTLED, Status.ENFORCED, 0),
    "throttled": (Result.ALREADY_THROTTLED, Status.ENFORCED, 0),
    "drifted": (Result.DRIFT, Status.ENFORCED, 0),
    "flagged-notify-only": (Result.THROTTLED, Status.ENFORCED, 0),
    "flagged-by-breaker": (Result.THROTTLED, Status.ENFORCED, 0),
    "restoring": (Result.THROTTLED, Status.ENFORCED, 0),
    "restoring-stale": (Result.THROTTLED, Status.ENFORCED, 0),
}
CONTEXTS = ["plain", "notify-only", "account-notify-only", "paused", "breaker-open"]


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("detector", ["kill-switch", "kill-switch:panic"])
@pytest.mark.parametrize("state", STATES)
def test_the_kill_switch_throttles_in_every_state_and_every_context(memory, state, detector, context):
    target = _in_state(memory, state)
    options = _context(memory, context)
    finding = memory.finding(target, detector, "stop it")
    outcome = memory.enforcer(**options).enforce(finding)
    _expect(memory, target, OPERATOR[state], outcome.result)
    record = memory.ledger.get(target)
    if OPERATOR[state][0] is Result.THROTTLED and state != "none":  # taken over: names the operator
        assert (record.detector, record.reason) == (detector, "stop it")
        assert "took_over" in record.evidence


RESTORE = {
    "none": (Result.NOT_THROTTLED, None, PRIOR),
    # a throttle under way may land after the put-back: the record stays restoring until it settles
    "applying": (Result.RESTORED, Status.RESTORING, PRIOR),
    "flagged-notify-only": (Result.CLEARED, Status.RESTORED, PRIOR),
    "flagged-by-breaker": (Result.CLEARED, Status.RESTORED, PRIOR),
}


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("state", STATES)
def test_a_restore_in_every_state_and_every_context_puts_back_the_prior(memory, state, context):
    target = _in_state(memory, state)
    outcome = memory.enforcer(**_context(memory, context)).restore(target, reason="kill switch restore")
    expected = RESTORE.get(state, (Result.RESTORED, Status.RESTORED, PRIOR))
    _expect(memory, target, expected, outcome.result)
    memory.clock.advance(minutes=16)
    reconcile(memory.enforcer(), memory.clock())  # what settles is closed once stale, put back again
    assert memory.reservation(target) == PRIOR
    assert memory.ledger.get(target) is None or not memory.ledger.get(target).active


def test_a_throttle_that_lands_after_an_operators_restore_never_gives_a_new_claim_a_prior_of_0(
    memory, monkeypatch
):
    target = memory.function("runaway", PRIOR)
    enforcer = memory.enforcer()
    record = ActionRecord(target, Status.APPLYING, PRIOR, "r-1", memory.clock(), "athena-watch", "loop")
    memory.ledger.claim(record, replacing=None)  # a throttle's request, stopped between claim and call
    assert enforcer.restore(target).result is Result.RESTORED  # the operator's word is final
    place, meanwhile = memory.place(), []
    landing = place.set_reserved

    def lands_then_a_finding_arrives(name: str, value: int) -> None:
        landing(name, value)
        if not meanwhile:  # between the late call and its request's reaction, a new finding
            meanwhile.append(enforcer.enforce(memory.finding(target, "recursion-watch")))

    monkeypatch.setattr(place, "set_reserved", lands_then_a_finding_arrives)
    memory.clock.advance(seconds=1)
    late = enforcer.lifecycle.complete(enforcer.action(target.kind), record, claimed=True)

    assert meanwhile[0].result is Result.IN_PROGRESS  # the record settles: no claim reads the 0
    assert late.result is Result.NOT_THROTTLED
    assert memory.reservation(target) == PRIOR
    assert memory.ledger.get(target).status is Status.RESTORED
    assert enforcer.enforce(memory.finding(target)).prior == PRIOR


def test_a_second_restore_of_a_record_left_to_settle_never_closes_it_before_the_throttle_lands(
    memory, monkeypatch
):
    """Found by the interleaved race on moto: the second restore closed the record, the late throttle
    then landed, and the next claim read its 0 as the prior state."""
    target = memory.function("runaway", PRIOR)
    enforcer = memory.enforcer()
    record = ActionRecord(target, Status.APPLYING, PRIOR, "r-1", memory.clock(), "athena-watch", "loop")
    memory.ledger.claim(record, replacing=None)  # a throttle's request, stopped between claim and call
    assert enforcer.restore(target).result is Result.RESTORED  # left restoring, to settle
    assert enforcer.restore(target).result is Result.RESTORED  # put back again, still left to settle
    assert memory.ledger.get(target).status is Status.RESTORING
    place, meanwhile = memory.place(), []
    landing = place.set_reserved

    def lands_then_a_finding_arrives(name: str, value: int) -> None:
        landing(name, value)
        if not meanwhile:
            meanwhile.append(enforcer.enforce(memory.finding(target, "recursion-watch")))

    monkeypatch.setattr(place, "set_reserved", lands_then_a_finding_arrives)
    late = enforcer.lifecycle.complete(enforcer.action(target.kind), record, claimed=True)

    assert meanwhile[0].result is Result.IN_PROGRESS
    assert late.result is Result.NOT_THROTTLED
    assert memory.reservation(target) == PRIOR
    assert enforcer.enforce(memory.finding(target)).prior == PRIOR


RECONCILED = {
    "none": (None, None, PRIOR),
    "applying": (None, Status.APPLYING, PRIOR),  # young: its request may still be running
    "applying-stale": (Result.THROTTLED, Status.ENFORCED, 0),
    "throttled": (None, Status.ENFORCED, 0),
    "drifted": (Result.DRIFT, Status.ENFORCED, 0),
    "flagged-notify-only": (None, Status.FLAGGED, PRIOR),  # by configuration: its next finding decides
    "flagged-by-breaker": (Result.THROTTLED, Status.ENFORCED, 0),
    "restoring": (None, Status.RESTORING, 0),
    "restoring-stale": (Result.RESTORED, Status.RESTORED, PRIOR),
}


@pytest.mark.parametrize("state", STATES)
def test_the_scheduled_reconciliation_in_every_state(memory, state):
    target = _in_state(memory, state)
    outcomes = reconcile(memory.enforcer(), memory.clock())
    result = outcomes[0].result if outcomes else None
    _expect(memory, target, RECONCILED[state], result)


def test_a_flagged_record_waits_while_the_breaker_is_open_and_is_throttled_once_a_slot_frees(memory):
    victims = [memory.function(f"victim-{i}", 5) for i in range(5)]
    runaway = memory.function("runaway", PRIOR)
    enforcer = memory.enforcer()
    assert [enforcer.enforce(memory.finding(v)).result for v in victims] == [Result.THROTTLED] * 5

    memory.clock.advance(minutes=10)
    held = enforcer.enforce(memory.finding(runaway))
    again = enforcer.enforce(memory.finding(runaway))
    memory.clock.advance(minutes=30)
    still = reconcile(enforcer, memory.clock())
    memory.clock.advance(minutes=21)  # the first five slots were taken 61 minutes ago
    later = enforcer.enforce(memory.finding(runaway))

    assert held.result is Result.WOULD_THROTTLE and "circuit breaker open" in held.detail
    assert again.result is Result.ALREADY_FLAGGED and "circuit breaker open" in again.detail
    assert still == []
    assert later.result is Result.THROTTLED
    assert memory.reservation(runaway) == 0
    assert memory.ledger.get(runaway).prior == PRIOR
    events = memory.topic.event_types()
    assert events.count("breaker-open") == 1
    [opened] = [a for a in memory.topic.sent if a.document["event_type"] == "breaker-open"]
    assert "function runaway" in opened.document["reason"]
    assert opened.document["undo"]["payload"]["action"] == "throttle"
    assert opened.document["evidence"]["held_back"] == "function runaway"


def test_a_flagged_record_is_throttled_with_the_reservation_it_has_now(memory):
    runaway = _in_state(memory, "flagged-by-breaker")
    memory.place().reserved["runaway"] = 12  # its owner changed it while it was only flagged

    memory.enforcer().enforce(memory.finding(runaway, "kill-switch", "stop it"))
    memory.enforcer().restore(runaway)

    assert memory.reservation(runaway) == 12


def test_one_accounts_decoys_leave_every_other_account_enforced(memory):
    decoys = [memory.function(f"decoy-{i}", 1, account="222222222222") for i in range(6)]
    central = memory.function("central-runaway", PRIOR)
    other = memory.function("other-runaway", PRIOR, account="333333333333")
    enforcer = memory.enforcer()

    results = [enforcer.enforce(memory.finding(decoy)).result for decoy in decoys]

    assert results == [Result.THROTTLED] * 5 + [Result.WOULD_THROTTLE]
    assert enforcer.enforce(memory.finding(central)).result is Result.THROTTLED
    assert enforcer.enforce(memory.finding(other)).result is Result.THROTTLED
    places = {(p["account"], p["state"]) for p in enforcer.breaker()["places"]}
    assert places == {("222222222222", "open"), (ACCOUNT, "closed"), ("333333333333", "closed")}


def _record(target: Target, status: Status, memory: Memory, age: timedelta = timedelta()) -> ActionRecord:
    record = ActionRecord(
        target=target,
        status=status,
        prior=PRIOR,
        record_id=f"r-{status.value}",
        acted_at=memory.clock() - age,
        detector="athena-watch",
        reason="412 queries",
        evidence={"queries": 412},
    )
    memory.ledger.records.by_target.clear()
    memory.ledger.claim(record, replacing=None)
    return record


def _in_state(memory: Memory, state: str) -> Target:
    """A function `runaway` (prior reservation 7) whose record and reservation are in `state`."""
    target = memory.function("runaway", PRIOR)
    stale = timedelta(minutes=20)
    setups: dict[str, tuple[Status, int | None, timedelta, dict[str, Any]]] = {
        "applying": (Status.APPLYING, PRIOR, timedelta(), {}),
        "applying-stale": (Status.APPLYING, PRIOR, stale, {}),
        "throttled": (Status.ENFORCED, 0, timedelta(), {}),
        "drifted": (Status.ENFORCED, PRIOR, timedelta(), {}),
        "flagged-notify-only": (Status.FLAGGED, PRIOR, timedelta(), {"held_back": "notify-only"}),
        "flagged-by-breaker": (Status.FLAGGED, PRIOR, stale, {"held_back": "circuit breaker open in ..."}),
        "restoring": (Status.RESTORING, 0, timedelta(), {}),
        "restoring-stale": (Status.RESTORING, 0, stale, {}),
    }
    if state in setups:
        status, reserved, age, evidence = setups[state]
        record = _record(target, status, memory, age)
        memory.ledger.records.by_target.clear()
        memory.ledger.claim(ActionRecord(**{**record.__dict__, "evidence": evidence}), replacing=None)
        memory.place().reserved["runaway"] = reserved
    return target


def _context(memory: Memory, context: str) -> dict[str, Any]:
    if context == "notify-only":
        return {"notify_only": True}
    if context == "account-notify-only":
        memory.notify_only_accounts.add(ACCOUNT)
    elif context == "paused":
        memory.ledger.pauses.by_account[ACCOUNT] = AccountPause(
            ACCOUNT, "alice", memory.clock(), "drill", "p-1"
        )
    elif context == "breaker-open":
        for slot in range(5):
            memory.ledger.take_breaker_slot(
                BreakerSlot(ACCOUNT, REGION, slot, memory.clock(), "decoy"), window=timedelta(hours=1)
            )
    return {}


Expected = tuple[Any, Status | None, int | None]


def _expect(memory: Memory, target: Target, expected: Expected, result: Any) -> None:
    want_result, want_status, want_reservation = expected
    record = memory.ledger.get(target)
    story = f"result={result}, record={record}, reservation={memory.reservation(target)}"
    assert result == want_result, story
    assert (None if record is None else record.status) == want_status, story
    assert memory.reservation(target) == want_reservation, story
    if record is not None:
        assert record.prior == PRIOR, story  # never overwritten
