"""Every AWS call on the throttle and restore paths made to fail, or the invocation to die right after
it, then the request retried: the function, the ledger and the audit trail agree, and the original prior
reservation comes back exactly.

The paths' calls are recorded from a clean run first, so a call added to a path is covered by itself.
Against moto; the faults are botocore `before-call`/`after-call` hooks (see `faults.py`).
"""

from __future__ import annotations

from contextlib import suppress

import pytest

from guardrail.domain import Result, Target
from guardrail.errors import GuardrailError
from tests.integration.enforcement.faults import Crash

pytestmark = pytest.mark.slow  # every AWS call of each path failed in turn

NO_BREAKER = {"breaker_max_actions_per_hour": 1000}  # every function here is throttled on purpose


def _faulted(mode: str, index: int) -> dict[str, int]:
    return {"fail_at": index} if mode == "fail" else {"crash_after": index}


def _attempt(operation) -> None:
    with suppress(Crash, GuardrailError):  # the invocation failed: its caller retries
        operation()


CASES = [(mode, prior) for mode in ("fail", "crash") for prior in (12, None)]


@pytest.mark.parametrize("case", CASES, ids=[f"{mode}-prior-{prior}" for mode, prior in CASES])
def test_every_call_on_the_throttle_path(world, case):
    (mode, prior), deployed, faults = case, world.deployed, world.faults
    make_function, finding, agree = world.make_function, world.finding, world.agree
    enforcer = deployed.enforcer(**NO_BREAKER)
    make_function("probe", reserved=prior)
    with faults.armed() as clean:
        assert enforcer.enforce(finding("probe")).result is Result.THROTTLED
    path = list(clean.calls)
    assert {"lambda.PutFunctionConcurrency", "dynamodb.TransactWriteItems", "sns.Publish"} <= set(path)

    for index, call in enumerate(path):
        name = f"batch-{index}"
        context = f"{mode} at call {index} ({call}) of {path}"
        make_function(name, reserved=prior)
        with faults.armed(**_faulted(mode, index)):
            _attempt(lambda: enforcer.enforce(finding(name)))  # noqa: B023 - run at once
        deployed.clock.advance(minutes=1)

        retried = enforcer.enforce(finding(name))  # the next finding about it

        assert retried.result in {Result.THROTTLED, Result.ALREADY_THROTTLED}, context
        agree(name, held=True, prior=prior, context=context)
        assert enforcer.restore(Target.function(name)).result is Result.RESTORED, context
        agree(name, held=False, prior=prior, context=context)


@pytest.mark.parametrize("case", CASES, ids=[f"{mode}-prior-{prior}" for mode, prior in CASES])
def test_every_call_on_the_restore_path(world, case):
    (mode, prior), deployed, faults = case, world.deployed, world.faults
    make_function, finding, agree = world.make_function, world.finding, world.agree
    enforcer = deployed.enforcer(**NO_BREAKER)
    make_function("probe", reserved=prior)
    enforcer.enforce(finding("probe"))
    with faults.armed() as clean:
        assert enforcer.restore(Target.function("probe")).result is Result.RESTORED
    path = list(clean.calls)
    put_back = "lambda.PutFunctionConcurrency" if prior is not None else "lambda.DeleteFunctionConcurrency"
    assert {put_back, "dynamodb.TransactWriteItems", "sns.Publish"} <= set(path)

    for index, call in enumerate(path):
        name = f"batch-{index}"
        context = f"{mode} at call {index} ({call}) of {path}"
        make_function(name, reserved=prior)
        enforcer.enforce(finding(name))
        with faults.armed(**_faulted(mode, index)):
            _attempt(lambda: enforcer.restore(Target.function(name)))  # noqa: B023 - run at once
        deployed.clock.advance(minutes=1)

        retried = enforcer.restore(Target.function(name))  # the operator tries again

        assert retried.result in {Result.RESTORED, Result.NOT_THROTTLED}, context
        agree(name, held=False, prior=prior, context=context)
        again = enforcer.enforce(finding(name))  # the next throttle records the true prior value
        assert (again.result, again.prior) == (Result.THROTTLED, prior), context
        enforcer.restore(Target.function(name))
        assert deployed.reservation(name) == prior, context
