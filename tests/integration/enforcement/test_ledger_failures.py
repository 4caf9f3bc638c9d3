"""The four ledger failures of issue 10, each reproduced against moto and shown closed."""

from __future__ import annotations

from contextlib import suppress

from botocore.exceptions import ClientError

from guardrail.domain import Result, Status, Target
from guardrail.enforcement.reconcile import reconcile
from guardrail.errors import GuardrailError
from tests.conftest import ACCOUNT, REGION
from tests.integration.enforcement.faults import Crash

BATCH = Target.function("nightly-batch", ACCOUNT, REGION)  # the Enforcer places every target


def _events(deployed) -> list[str]:
    return [alert["Document"]["event_type"] for alert in deployed.alerts()]


def test_1_a_lifted_throttle_is_found_on_the_next_finding_and_stopped_again(world):
    deployed = world.deployed
    world.make_function("nightly-batch", reserved=12)
    enforcer = deployed.enforcer()
    enforcer.enforce(world.finding("nightly-batch"))
    deployed.session.client("lambda").put_function_concurrency(  # the owner, or a Terraform apply
        FunctionName="nightly-batch", ReservedConcurrentExecutions=50
    )

    outcome = enforcer.enforce(world.finding("nightly-batch"))

    assert (outcome.result, outcome.prior) == (Result.DRIFT, 12)
    assert deployed.reservation("nightly-batch") == 0
    assert _events(deployed) == ["throttled", "drift"]
    assert ("throttle", "drift") in [(e.action, e.result) for e in world.ledger.audit_trail(BATCH)]
    assert enforcer.enforce(world.finding("nightly-batch")).result is Result.ALREADY_THROTTLED
    assert enforcer.restore(BATCH).result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == 12


def test_1_a_lifted_throttle_is_found_by_the_scheduled_reconciliation(world):
    deployed = world.deployed
    world.make_function("nightly-batch", reserved=12)
    world.make_function("quiet", reserved=3)
    enforcer = deployed.enforcer()
    enforcer.enforce(world.finding("nightly-batch"))
    enforcer.enforce(world.finding("quiet"))
    deployed.session.client("lambda").delete_function_concurrency(FunctionName="nightly-batch")

    outcomes = reconcile(enforcer, deployed.clock())

    assert [(o.target, o.result, o.prior) for o in outcomes] == [(BATCH, Result.DRIFT, 12)]
    assert deployed.reservation("nightly-batch") == 0
    assert reconcile(enforcer, deployed.clock()) == []
    enforcer.restore(BATCH)
    assert deployed.reservation("nightly-batch") == 12


def test_2_a_throttle_racing_a_restore_never_claims_the_function_mid_restore(world):
    """The finding arrives right after the restore's first ledger write, as in the reported race."""
    deployed, faults = world.deployed, world.faults
    world.make_function("nightly-batch", reserved=20)
    enforcer = deployed.enforcer()
    enforcer.enforce(world.finding("nightly-batch"))
    raced = []

    def throttle_now() -> None:
        raced.append(deployed.enforcer().enforce(world.finding("nightly-batch")))

    with faults.armed(run_after=(1, throttle_now)) as watched:  # call 1: the move to restoring
        restored = enforcer.restore(BATCH)
    assert watched.calls[1] == "dynamodb.UpdateItem"

    assert raced[0].result is Result.IN_PROGRESS
    assert restored.result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == 20
    again = enforcer.enforce(world.finding("nightly-batch"))
    assert (again.result, again.prior) == (Result.THROTTLED, 20)
    enforcer.restore(BATCH)
    assert deployed.reservation("nightly-batch") == 20


def test_3_a_failed_throttle_whose_clean_up_fails_is_applied_by_the_next_finding(world):
    deployed = world.deployed
    world.make_function("nightly-batch", reserved=30)
    enforcer = deployed.enforcer()
    throttles: list[str] = []

    def fail_apply_and_release(model, **_):
        """The throttle's PutFunctionConcurrency fails, its roll-back's succeeds, the DeleteItem fails."""
        first_put = model.name == "PutFunctionConcurrency" and not throttles
        throttles.extend([model.name] if model.name == "PutFunctionConcurrency" else [])
        if first_put or model.name == "DeleteItem":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, model.name)

    deployed.session.events.register("before-call", fail_apply_and_release)
    failed = deployed.enforcer().enforce(world.finding("nightly-batch"))
    deployed.session.events.unregister("before-call", fail_apply_and_release)

    assert failed.result is Result.ERROR
    assert "the next finding applies it again" in failed.error
    assert deployed.reservation("nightly-batch") == 30  # rolled back
    assert world.ledger.get(BATCH).status is Status.APPLYING
    [held] = [r for r in enforcer.active() if r.target == BATCH]
    assert held.status is Status.APPLYING  # `status` shows it, state named

    retried = enforcer.enforce(world.finding("nightly-batch"))

    assert (retried.result, retried.prior) == (Result.THROTTLED, 30)
    assert deployed.reservation("nightly-batch") == 0
    enforcer.restore(BATCH)
    assert deployed.reservation("nightly-batch") == 30


def test_4_a_restore_that_crashed_half_way_is_finished_by_the_next_restore(world):
    deployed, faults = world.deployed, world.faults
    world.make_function("nightly-batch", reserved=12)
    enforcer = deployed.enforcer()
    enforcer.enforce(world.finding("nightly-batch"))

    with faults.armed(crash_after=1), suppress(Crash, GuardrailError):  # after the move to restoring
        enforcer.restore(BATCH)

    assert deployed.reservation("nightly-batch") == 0
    assert world.ledger.get(BATCH).status is Status.RESTORING
    assert enforcer.enforce(world.finding("nightly-batch")).result is Result.IN_PROGRESS
    retried = enforcer.restore(BATCH)
    assert (retried.result, retried.prior) == (Result.RESTORED, 12)
    assert deployed.reservation("nightly-batch") == 12
    again = enforcer.enforce(world.finding("nightly-batch"))
    assert (again.result, again.prior) == (Result.THROTTLED, 12)
    enforcer.restore(BATCH)
    assert deployed.reservation("nightly-batch") == 12


def test_crashed_requests_left_in_progress_are_finished_by_the_schedule_once_stale(world):
    deployed, faults = world.deployed, world.faults
    world.make_function("half-throttled", reserved=4)
    world.make_function("half-restored", reserved=9)
    enforcer = deployed.enforcer()
    with faults.armed(crash_after=5), suppress(Crash, GuardrailError):  # after the claim (the 6th call)
        enforcer.enforce(world.finding("half-throttled"))
    enforcer.enforce(world.finding("half-restored"))
    with faults.armed(crash_after=1), suppress(Crash, GuardrailError):
        enforcer.restore(Target.function("half-restored"))

    assert reconcile(enforcer, deployed.clock()) == []  # young: their requests may still be running
    deployed.clock.advance(minutes=16)
    outcomes = {o.target.name: o.result for o in reconcile(enforcer, deployed.clock())}

    assert outcomes == {"half-throttled": Result.THROTTLED, "half-restored": Result.RESTORED}
    assert (deployed.reservation("half-throttled"), deployed.reservation("half-restored")) == (0, 9)
    assert world.ledger.get(Target.function("half-throttled")).prior == 4


def test_an_operators_restore_takes_over_a_record_still_applying(world):
    deployed, faults = world.deployed, world.faults
    world.make_function("half-throttled", reserved=4)
    enforcer = deployed.enforcer()
    with faults.armed(crash_after=5), suppress(Crash, GuardrailError):  # after the claim (the 6th call)
        enforcer.enforce(world.finding("half-throttled"))

    restored = enforcer.restore(Target.function("half-throttled"))  # young: the operator's word is final

    assert (restored.result, restored.prior) == (Result.RESTORED, 4)
    assert deployed.reservation("half-throttled") == 4
    # its throttle may still land: the record settles as restoring, closed once that cannot happen
    assert world.ledger.get(Target.function("half-throttled")).status is Status.RESTORING
    assert enforcer.enforce(world.finding("half-throttled")).result is Result.IN_PROGRESS
    deployed.clock.advance(minutes=16)
    assert [o.result for o in reconcile(enforcer, deployed.clock())] == [Result.RESTORED]
    assert deployed.reservation("half-throttled") == 4
    assert world.ledger.get(Target.function("half-throttled")).status is Status.RESTORED
