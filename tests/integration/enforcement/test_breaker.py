"""The circuit breaker against moto: per account and region, a rolling hour, concurrent invocations.

Threads call moto one call at a time (`atomic_calls`: moto is not thread-safe); the same race on the
in-memory ledger, with real threads and no lock but the ledger's own, is in tests/unit/enforcement.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from guardrail.domain import Finding, Result, Status, Target


@pytest.mark.usefixtures("moto_patches", "atomic_calls")
def test_25_forged_signals_in_a_minute_throttle_at_most_n_then_notify_once(world):
    deployed = world.deployed
    names = [f"victim-{i:02d}" for i in range(25)]
    for name in names:
        world.make_function(name, reserved=5)
    enforcers = [deployed.enforcer(breaker_max_actions_per_hour=5) for _ in range(5)]
    start = threading.Barrier(25)

    def forged(i: int) -> Result:
        start.wait()
        return enforcers[i % 5].enforce(world.finding(names[i], detector="recursion-watch")).result

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(forged, range(25)))

    throttled = [name for name in names if deployed.reservation(name) == 0]
    assert len(throttled) == results.count(Result.THROTTLED) == 5, results
    assert results.count(Result.WOULD_THROTTLE) == 20, results
    events = [a["Document"]["event_type"] for a in deployed.alerts()]
    assert events.count("breaker-open") == 1
    assert events.count("throttled") == 5
    assert events.count("would-throttle") == 20
    flagged = [r for r in enforcers[0].active() if r.status is Status.FLAGGED]
    assert len(flagged) == 20
    breaker = enforcers[0].breaker()
    assert (breaker["state"], breaker["automatic_actions_this_hour"], breaker["max_actions_per_hour"]) == (
        "open",
        5,
        5,
    )
    [place] = breaker["places"]
    assert (place["account"], place["region"], place["state"]) == ("123456789012", "us-east-1", "open")


def test_operator_actions_are_never_limited_and_a_slot_frees_an_hour_after_it_was_taken(world):
    deployed = world.deployed
    for i in range(4):
        world.make_function(f"fn-{i}", reserved=2)
    enforcer = deployed.enforcer(breaker_max_actions_per_hour=1)

    first = enforcer.enforce(world.finding("fn-0"))
    deployed.clock.advance(minutes=40)
    second = enforcer.enforce(world.finding("fn-1"))
    operator = enforcer.enforce(Finding(Target.function("fn-2"), "kill-switch", "stop it", deployed.clock()))
    deployed.clock.advance(minutes=19)  # 59 minutes after the first: still within its hour
    third = enforcer.enforce(world.finding("fn-3"))
    deployed.clock.advance(minutes=1)  # a rolling hour, not the clock hour: now it frees
    fourth = enforcer.enforce(world.finding("fn-3"))

    assert [first.result, second.result, operator.result, third.result, fourth.result] == [
        Result.THROTTLED,
        Result.WOULD_THROTTLE,
        Result.THROTTLED,
        Result.WOULD_THROTTLE,
        Result.THROTTLED,
    ]
    assert "circuit breaker open" in second.detail
    assert deployed.reservation("fn-1") == 2
    [breaker_alert] = [a for a in deployed.alerts() if a["Document"]["event_type"] == "breaker-open"]
    assert "function fn-1" in breaker_alert["Document"]["reason"]
    assert breaker_alert["Document"]["undo"]["payload"] == {
        "action": "throttle",
        "functions": ["fn-1"],
        "reason": "re-apply guardrail throttle (athena-watch)",
    }
