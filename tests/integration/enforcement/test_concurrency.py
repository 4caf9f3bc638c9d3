"""Races against moto, in threads, each AWS call atomic (`atomic_calls`: moto is not thread-safe).

The same races run without any AWS stand-in on the in-memory ledger (tests/unit/enforcement/test_races.py).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from guardrail.domain import Outcome, Result, Status, Target
from guardrail.enforcement.reconcile import reconcile
from tests.conftest import ACCOUNT, REGION

BATCH = Target.function("nightly-batch", ACCOUNT, REGION)  # the Enforcer places every target
# threads on moto, each call alone; the races themselves run on the in-memory ports in tests/unit
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("moto_patches", "atomic_calls")]


def test_fifty_concurrent_throttles_throttle_once_and_keep_the_prior(world):
    deployed = world.deployed
    world.make_function("nightly-batch", reserved=7)
    enforcers = [deployed.enforcer() for _ in range(4)]  # as many invocations
    start = threading.Barrier(50)

    def throttle(i: int) -> Result:
        start.wait()
        return enforcers[i % 4].enforce(world.finding("nightly-batch")).result

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(throttle, range(50)))

    assert results.count(Result.THROTTLED) == 1, results
    assert results.count(Result.ALREADY_THROTTLED) == 49, results
    record = world.ledger.get(BATCH)
    assert (record.status, record.prior) == (Status.ENFORCED, 7)
    assert [(e.action, e.result) for e in world.ledger.audit_trail(BATCH)] == [("throttle", "throttled")]
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["throttled"]
    assert enforcers[0].restore(BATCH).result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == 7


@pytest.mark.parametrize("seed", range(20))
def test_throttles_and_restores_interleaved_never_lose_the_prior(world, seed):
    deployed = world.deployed
    world.make_function("nightly-batch", reserved=20)
    chance = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    plan = [chance.choice(["throttle", "restore"]) for _ in range(12)]
    delays = [chance.random() / 100 for _ in plan]
    enforcers = [deployed.enforcer() for _ in range(3)]

    def act(i: int) -> Outcome:
        time.sleep(delays[i])
        enforcer = enforcers[i % 3]
        if plan[i] == "throttle":
            return enforcer.enforce(world.finding("nightly-batch"))
        return enforcer.restore(BATCH)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(act, range(len(plan))))
    errors = [(plan[i], o.detail, o.error) for i, o in enumerate(outcomes) if o.result is Result.ERROR]
    assert errors == [], list(zip(plan, [o.result for o in outcomes], strict=True))

    record = world.ledger.get(BATCH)
    assert record is None or record.prior == 20, record  # never lost, whatever the order
    deployed.clock.advance(minutes=16)  # whatever was left in progress is stale now
    reconcile(enforcers[0], deployed.clock())  # the schedule corrects a put-back that landed late
    record = world.ledger.get(BATCH)
    if record is not None and record.active:
        assert record.status is Status.ENFORCED, record
        assert deployed.reservation("nightly-batch") == 0
    else:
        assert deployed.reservation("nightly-batch") == 20
    enforcers[0].restore(BATCH)
    assert deployed.reservation("nightly-batch") == 20
