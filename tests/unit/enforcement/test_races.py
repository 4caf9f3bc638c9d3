"""Races on the in-memory ledger with real threads: no AWS stand-in, no lock but the ledger's own."""

from __future__ import annotations

import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from guardrail.domain import Result, Status
from guardrail.enforcement.reconcile import reconcile


def test_25_signals_at_once_throttle_at_most_n_and_open_the_breaker_once(memory):
    targets = [memory.function(f"victim-{i:02d}", 5) for i in range(25)]
    enforcers = [memory.enforcer(breaker_max_actions_per_hour=5) for _ in range(5)]
    start = threading.Barrier(25)

    def signal(i: int) -> Result:
        start.wait()
        return enforcers[i % 5].enforce(memory.finding(targets[i], "recursion-watch")).result

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(signal, range(25)))

    assert results.count(Result.THROTTLED) == 5, results
    assert results.count(Result.WOULD_THROTTLE) == 20, results
    assert sum(memory.reservation(t) == 0 for t in targets) == 5
    assert memory.topic.event_types().count("breaker-open") == 1


def test_concurrent_restores_restore_once(memory):
    target = memory.function("nightly-batch", 7)
    enforcer = memory.enforcer()
    enforcer.enforce(memory.finding(target))
    start = threading.Barrier(4)

    def restore(_: int) -> Result:
        start.wait()
        return enforcer.restore(target).result

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(restore, range(4)))

    assert results.count(Result.RESTORED) == 1, results
    assert set(results) == {Result.RESTORED, Result.NOT_THROTTLED}, results
    assert memory.topic.event_types() == ["throttled", "restored"]
    assert memory.reservation(target) == 7


def test_a_restore_overtaken_by_another_restore_says_restored_by_it_not_taken_over(memory, monkeypatch):
    # The interleaving moto showed under load: the second restore takes the record over between the
    # first's put-back and its close; the first must not answer as if an operator's throttle had won.
    target = memory.function("nightly-batch", 7)
    enforcer = memory.enforcer()
    enforcer.enforce(memory.finding(target))
    functions = memory.place(target.account)
    set_reserved, calls = functions.set_reserved, itertools.count()
    second_put_back, first_answered = threading.Event(), threading.Event()
    answers: dict[str, Result] = {}
    second = threading.Thread(target=lambda: answers.setdefault("second", enforcer.restore(target).result))

    def put_back(name: str, value: int) -> None:
        call = next(calls)
        set_reserved(name, value)
        if call == 0:  # the first restore's put-back: the second restore takes the record over now
            second.start()
            assert second_put_back.wait(5)
        elif call == 1:  # the second's put-back: it holds the record until the first has answered
            second_put_back.set()
            assert first_answered.wait(5)

    monkeypatch.setattr(functions, "set_reserved", put_back)
    answers["first"] = enforcer.restore(target).result
    first_answered.set()
    second.join(5)

    assert answers == {"first": Result.NOT_THROTTLED, "second": Result.RESTORED}
    assert memory.topic.event_types() == ["throttled", "restored"]
    assert memory.reservation(target) == 7
    assert memory.ledger.get(target) is None or not memory.ledger.get(target).active


def test_fifty_concurrent_findings_and_operator_throttles_throttle_once_and_keep_the_prior(memory):
    target = memory.function("nightly-batch", 7)
    enforcers = [memory.enforcer() for _ in range(4)]
    start = threading.Barrier(50)

    def throttle(i: int) -> Result:
        start.wait()
        detector = "kill-switch" if i % 5 == 0 else "athena-watch"
        return enforcers[i % 4].enforce(memory.finding(target, detector)).result

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(throttle, range(50)))

    assert Result.ERROR not in results, results
    record = memory.ledger.get(target)
    assert (record.status, record.prior) == (Status.ENFORCED, 7)
    assert memory.reservation(target) == 0
    assert enforcers[0].restore(target).result is Result.RESTORED
    assert memory.reservation(target) == 7


@pytest.mark.parametrize("seed", range(30))
def test_throttles_and_restores_interleaved_never_lose_the_prior(memory, seed):
    target = memory.function("nightly-batch", 20)
    chance = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    plan = [chance.choice(["finding", "operator", "restore"]) for _ in range(12)]
    delays = [chance.random() / 200 for _ in plan]
    enforcers = [memory.enforcer() for _ in range(3)]

    def act(i: int) -> Result:
        time.sleep(delays[i])
        enforcer = enforcers[i % 3]
        if plan[i] == "restore":
            return enforcer.restore(target).result
        detector = "kill-switch" if plan[i] == "operator" else "athena-watch"
        return enforcer.enforce(memory.finding(target, detector)).result

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(act, range(len(plan))))
    assert Result.ERROR not in results, list(zip(plan, results, strict=True))

    record = memory.ledger.get(target)
    assert record is None or record.prior == 20, record  # never lost, whatever the order
    memory.clock.advance(minutes=20)  # whatever was left in progress is stale now
    reconcile(enforcers[0], memory.clock())
    record = memory.ledger.get(target)
    if record is not None and record.active:
        assert record.status is Status.ENFORCED, record
        assert memory.reservation(target) == 0
    else:
        assert memory.reservation(target) == 20
    enforcers[0].restore(target)
    assert memory.reservation(target) == 20
