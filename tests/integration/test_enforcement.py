"""The shared enforcement path against moto: ledger, reserved concurrency, audit, alerts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from guardrail.adapters.ledger import Ledger
from guardrail.domain import Finding, Result, Status, Target


def fn(name: str) -> Target:
    return Target.function(name)


def finding(deployed, name: str, key: str | None = None) -> Finding:
    return Finding(
        fn(name), "athena-watch", "412 queries in 5 minutes", deployed.clock(), {"queries": 412}, key
    )


@pytest.mark.parametrize("prior", [7, 0, None])
def test_restore_puts_back_exactly_the_prior_reservation(deployed, make_function, prior):
    make_function("nightly-batch", reserved=prior)
    enforcer = deployed.enforcer()

    throttled = enforcer.enforce(finding(deployed, "nightly-batch"))
    assert (throttled.result, throttled.prior) == (Result.THROTTLED, prior)
    assert deployed.reservation("nightly-batch") == 0

    restored = enforcer.restore(fn("nightly-batch"))
    assert restored.result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == prior
    assert Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    ).get(fn("nightly-batch")).status is (Status.RESTORED)


def test_second_throttle_never_overwrites_the_prior_reservation(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed, "nightly-batch"))

    again = enforcer.enforce(finding(deployed, "nightly-batch"))

    assert again.result is Result.ALREADY_THROTTLED
    assert again.prior == 7
    enforcer.restore(fn("nightly-batch"))
    assert deployed.reservation("nightly-batch") == 7
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["throttled", "restored"]


def test_throttle_after_restore_records_the_reservation_of_that_moment(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed, "nightly-batch"))
    deployed.clock.advance(minutes=5)
    enforcer.restore(fn("nightly-batch"))
    deployed.session.client("lambda").put_function_concurrency(
        FunctionName="nightly-batch", ReservedConcurrentExecutions=3
    )
    deployed.clock.advance(minutes=5)

    assert enforcer.enforce(finding(deployed, "nightly-batch")).prior == 3
    enforcer.restore(fn("nightly-batch"))
    assert deployed.reservation("nightly-batch") == 3


@pytest.mark.parametrize(
    ("name", "tags", "detail"),
    [
        ("tagged", {"guardrail:exempt": "true"}, "exempt-by-tag"),
        ("tagged-mixed-case", {"guardrail:exempt": "True"}, "exempt-by-tag"),
        ("payments-api", {}, "exempt-by-name"),
        ("runaway-guardrail-athena-watch", {}, "guardrail-own"),
    ],
)
def test_exempt_functions_are_never_touched(deployed, make_function, name, tags, detail):
    make_function(name, reserved=5, tags=tags)

    outcome = deployed.enforcer().enforce(finding(deployed, name))

    assert (outcome.result, outcome.detail) == (Result.EXEMPT, detail)
    assert deployed.reservation(name) == 5
    assert (
        Ledger(
            deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
        ).get(fn(name))
        is None
    )
    assert deployed.alerts() == []


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("runaway-guardrail-payments", {}),  # the guardrail's prefix, not one of its deployed names
        ("renamed-guardrail-fn", {"guardrail:component": "runaway-guardrail"}),  # a tag anyone may set
    ],
)
def test_a_function_that_only_looks_like_the_guardrails_own_is_throttled(deployed, make_function, name, tags):
    make_function(name, reserved=5, tags=tags)

    outcome = deployed.enforcer().enforce(finding(deployed, name))

    assert outcome.result is Result.THROTTLED
    assert deployed.reservation(name) == 0


def test_exempt_tag_with_other_value_does_not_exempt(deployed, make_function):
    make_function("batch", tags={"guardrail:exempt": "no"})
    assert deployed.enforcer().enforce(finding(deployed, "batch")).result is Result.THROTTLED


def test_unknown_function_is_reported_and_nothing_is_recorded(deployed):
    outcome = deployed.enforcer().enforce(finding(deployed, "does-not-exist"))

    assert outcome.result is Result.NOT_FOUND
    ledger = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    )
    assert ledger.get(fn("does-not-exist")) is None
    assert [e.result for e in ledger.audit_trail(fn("does-not-exist"))] == ["not-found"]


def test_notify_only_records_and_alerts_but_leaves_the_function_running(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer(notify_only=True)

    outcome = enforcer.enforce(finding(deployed, "nightly-batch"))
    again = enforcer.enforce(finding(deployed, "nightly-batch"))

    assert outcome.result is Result.WOULD_THROTTLE
    assert again.result is Result.ALREADY_FLAGGED
    assert deployed.reservation("nightly-batch") == 7
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "would-throttle"
    assert "notify-only" in alert["Subject"]
    assert enforcer.restore(fn("nightly-batch")).result is Result.CLEARED
    assert deployed.reservation("nightly-batch") == 7


def test_duplicate_signal_acts_once(deployed, make_function):
    make_function("nightly-batch")
    enforcer = deployed.enforcer()

    first = enforcer.enforce(finding(deployed, "nightly-batch", key="event-1"))
    enforcer.restore(fn("nightly-batch"))
    redelivered = enforcer.enforce(finding(deployed, "nightly-batch", key="event-1"))

    assert (first.result, redelivered.result) == (Result.THROTTLED, Result.DUPLICATE)
    assert deployed.reservation("nightly-batch") is None
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["throttled", "restored"]


@pytest.mark.usefixtures("moto_patches", "atomic_calls")  # moto is not thread-safe: each call alone
def test_concurrent_findings_give_one_throttle_one_record_one_alert(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    start = threading.Barrier(8)

    def throttle(i: int) -> Result:
        start.wait()
        return enforcer.enforce(finding(deployed, "nightly-batch", key=f"event-{i % 3}")).result

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(throttle, range(8)))

    assert results.count(Result.THROTTLED) == 1
    assert set(results) <= {Result.THROTTLED, Result.ALREADY_THROTTLED, Result.DUPLICATE}
    ledger = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    )
    assert ledger.get(fn("nightly-batch")).prior == 7
    assert [e.result for e in ledger.audit_trail(fn("nightly-batch"))].count("throttled") == 1
    assert len(deployed.alerts()) == 1
    enforcer.restore(fn("nightly-batch"))
    assert deployed.reservation("nightly-batch") == 7


@pytest.mark.usefixtures("moto_patches", "atomic_calls")  # moto is not thread-safe: each call alone
def test_concurrent_restores_restore_once(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed, "nightly-batch"))
    deployed.alerts()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: enforcer.restore(fn("nightly-batch")).result, range(4)))

    assert results.count(Result.RESTORED) == 1
    assert set(results) == {Result.RESTORED, Result.NOT_THROTTLED}
    assert len(deployed.alerts()) == 1


def _fail(operation: str, code: str = "InternalError"):
    def hook(model, **_kwargs):
        if model.name == operation:
            raise ClientError({"Error": {"Code": code, "Message": f"{operation} is down"}}, operation)

    return hook


def _fail_once(operation: str):
    calls = []

    def hook(model, **_kwargs):
        if model.name == operation and not calls:
            calls.append(model.name)
            error = {"Error": {"Code": "InternalError", "Message": f"{operation} is down"}}
            raise ClientError(error, operation)

    return hook


def test_sns_failure_neither_skips_nor_undoes_the_throttle(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    deployed.session.events.register("before-call.sns.Publish", _fail("Publish"))

    outcome = deployed.enforcer().enforce(finding(deployed, "nightly-batch"))

    assert outcome.result is Result.THROTTLED
    assert outcome.alert_sent is False
    assert "alert not sent: InternalError: Publish is down" in outcome.error
    assert deployed.reservation("nightly-batch") == 0
    ledger = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    )
    assert ledger.get(fn("nightly-batch")).status is Status.ENFORCED
    trail = [(e.action, e.result) for e in ledger.audit_trail(fn("nightly-batch"))]
    assert ("throttle", "throttled") in trail
    assert ("alert", "error") in trail


def test_failed_throttle_releases_the_claim_so_a_retry_can_act(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    hook = _fail_once("PutFunctionConcurrency")  # the roll-back's PutFunctionConcurrency(7) succeeds
    deployed.session.events.register("before-call.lambda.PutFunctionConcurrency", hook)
    enforcer = deployed.enforcer()

    outcome = enforcer.enforce(finding(deployed, "nightly-batch", key="event-1"))

    assert outcome.result is Result.ERROR
    assert "function left as it was" in outcome.error
    assert deployed.reservation("nightly-batch") == 7
    ledger = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    )
    assert ledger.get(fn("nightly-batch")) is None
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "throttle-failed"

    deployed.session.events.unregister("before-call.lambda.PutFunctionConcurrency", hook)
    retried = deployed.enforcer().enforce(finding(deployed, "nightly-batch", key="event-1"))
    assert retried.result is Result.THROTTLED


def test_failed_restore_keeps_the_function_throttled_and_the_record_open(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed, "nightly-batch"))
    hook = _fail("PutFunctionConcurrency")
    deployed.session.events.register("before-call.lambda.PutFunctionConcurrency", hook)
    failing = deployed.enforcer()

    outcome = failing.restore(fn("nightly-batch"))

    assert outcome.result is Result.ERROR
    assert deployed.reservation("nightly-batch") == 0
    ledger = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    )
    assert ledger.get(fn("nightly-batch")).status is Status.ENFORCED
    deployed.session.events.unregister("before-call.lambda.PutFunctionConcurrency", hook)
    assert deployed.enforcer().restore(fn("nightly-batch")).result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == 7


def test_restore_of_a_deleted_function_closes_the_record(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed, "nightly-batch"))
    deployed.session.client("lambda").delete_function(FunctionName="nightly-batch")

    assert enforcer.restore(fn("nightly-batch")).result is Result.NOT_FOUND
    assert enforcer.active() == []
