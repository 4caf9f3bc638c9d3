"""The kill switch's real handler against moto, for every action and outcome."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from devtools.moto_server import ACCOUNT
from guardrail.adapters.ledger import Ledger
from guardrail.handlers import kill_switch
from guardrail.handlers.composition import build_enforcer

#: Panic and restore-all act on functions in parallel threads, and moto is not thread-safe (a transaction
#: deep-copying the table beside another thread's write failed with "dictionary changed size during
#: iteration"): each AWS call runs alone (`atomic_calls`), and the patches keep transactions cheap.
pytestmark = pytest.mark.usefixtures("moto_patches", "atomic_calls")

PANIC, RESTORE_ALL = f"panic-{ACCOUNT}", f"restore-all-{ACCOUNT}"


@pytest.fixture
def functions(make_function):
    make_function("nightly-batch", reserved=7)
    make_function("report-builder")
    make_function("tagged-exempt", tags={"guardrail:exempt": "true"})
    make_function("payments-api", reserved=2)
    make_function("runaway-guardrail-kill-switch")
    make_function("runaway-guardrail-lookalike")  # shares the prefix: not one of the guardrail's
    return make_function


def results(response):
    return {r["function"]: r["result"] for r in response["results"] if "function" in r}


def test_throttle_status_restore_round_trip(invoke, deployed, functions):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:report-builder"
    response = invoke(
        {
            "action": "throttle",
            "functions": ["nightly-batch", arn, "tagged-exempt", "ghost"],
            "reason": "loop",
        }
    )

    assert response["ok"] is True
    assert response["mode"] == "enforce"
    assert results(response) == {
        "nightly-batch": "throttled",
        "report-builder": "throttled",
        "tagged-exempt": "exempt",
        "ghost": "not-found",
    }
    assert deployed.reservation("nightly-batch") == 0
    assert deployed.reservation("report-builder") == 0

    status = invoke({"action": "status"})
    assert results(status) == {"nightly-batch": "throttled", "report-builder": "throttled"}
    assert {r["function"]: r["prior_reservation"] for r in status["results"]} == {
        "nightly-batch": 7,
        "report-builder": None,
    }
    assert status["breaker"]["state"] == "closed"  # the kill switch is an operator: never counted
    assert status["breaker"]["automatic_actions_this_hour"] == 0

    again = invoke({"action": "throttle", "functions": ["nightly-batch"], "reason": "again"})
    assert results(again) == {"nightly-batch": "already-throttled"}

    restored = invoke({"action": "restore", "functions": ["nightly-batch", "tagged-exempt"]})
    assert results(restored) == {"nightly-batch": "restored", "tagged-exempt": "not-throttled"}
    assert deployed.reservation("nightly-batch") == 7

    everything = invoke({"action": "restore", "functions": "all", "confirm": RESTORE_ALL})
    assert results(everything) == {"report-builder": "restored"}
    assert deployed.reservation("report-builder") is None
    assert invoke({"action": "status"})["results"] == []
    kinds = [a["Document"]["event_type"] for a in deployed.alerts()]
    assert sorted(kinds) == ["restored", "restored", "throttled", "throttled"]


def test_panic_throttles_everything_but_exempt_and_guardrail_functions(invoke, deployed, functions):
    response = invoke({"action": "panic", "reason": "bill is exploding", "confirm": PANIC})

    assert results(response) == {
        "nightly-batch": "throttled",
        "report-builder": "throttled",
        "tagged-exempt": "exempt",
        "payments-api": "exempt",
        "runaway-guardrail-kill-switch": "exempt",
        "runaway-guardrail-lookalike": "throttled",
    }
    assert deployed.reservation("runaway-guardrail-kill-switch") is None
    assert deployed.reservation("payments-api") == 2
    assert deployed.reservation("tagged-exempt") is None
    invoke({"action": "restore", "functions": "all", "confirm": RESTORE_ALL})
    assert deployed.reservation("nightly-batch") == 7


def test_notify_only_mode_holds_back_automatic_findings_never_the_kill_switch(
    invoke, deployed, functions, monkeypatch
):
    monkeypatch.setenv("GUARDRAIL_CONFIG", deployed.configured(notify_only=True).to_env()["GUARDRAIL_CONFIG"])

    response = invoke({"action": "throttle", "functions": ["nightly-batch"], "reason": "loop", "by": "alice"})

    assert response["mode"] == "notify-only"
    assert results(response) == {"nightly-batch": "throttled"}  # the operator's word is final
    assert deployed.reservation("nightly-batch") == 0
    [held] = invoke({"action": "status"})["results"]
    assert (held["result"], held["detector"], held["prior_reservation"]) == ("throttled", "kill-switch", 7)
    assert results(invoke({"action": "restore", "functions": "all", "confirm": RESTORE_ALL})) == {
        "nightly-batch": "restored"
    }
    assert deployed.reservation("nightly-batch") == 7
    [throttled, restored] = [a["Document"] for a in deployed.alerts()]
    assert throttled["evidence"]["requested_by"] == "alice"
    assert "by an operator (unnamed)" in restored["reason"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"action": "throttle", "functions": ["nightly-batch"]}, "reason: Field required"),
        (
            {"action": "throttle", "functions": [], "reason": "x"},
            "functions: List should have at least 1 item",
        ),
        (
            {"action": "throttle", "functions": ["bad name!"], "reason": "x"},
            "is not a Lambda function name or ARN",
        ),
        (
            {"action": "throttle", "functions": "nightly-batch", "reason": "x"},
            "functions: Input should be a valid list",
        ),
        ({"action": "explode"}, "does not match any of the expected tags"),
        ({"functions": ["nightly-batch"]}, "action: required"),
        ({"action": "restore", "functions": "everything"}, "functions"),
        ({"action": "status", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"action": "panic"}, "reason: Field required"),
        (
            {"action": "panic", "reason": "x"},
            'confirm: required for panic: add "confirm": "panic-<account id>"',
        ),
        ({"action": "panic", "reason": "x", "confirm": "panic"}, "confirm: does not confirm panic"),
        ({"action": "panic", "reason": "x", "confirm": "panic-210987654321"}, "does not confirm panic"),
        ({"action": "restore", "functions": "all"}, "confirm: required for restore-all"),
        ({"action": "restore", "workgroups": "all", "confirm": PANIC}, "does not confirm restore-all"),
        (
            {"action": "restore", "workgroups": 5},
            'workgroups: must be "all" or a non-empty list of workgroup',
        ),
        (
            {"action": "restore", "workgroups": ["primary", "bad name"]},
            "'bad name' is not an Athena workgroup",
        ),
        ({"action": "restore"}, "name functions, workgroups, or both"),
        ({"action": "throttle", "reason": "x"}, "name functions, workgroups, or both"),
        ({"action": "throttle", "workgroups": 5, "reason": "x"}, "workgroups: Input should be a valid list"),
        ({"action": "restore", "functions": [], "workgroups": "all"}, "non-empty list of function names"),
        (
            {
                "action": "throttle",
                "reason": "x",
                "functions": ["arn:aws:lambda:us-east-1:999999999999:function:nightly-batch"],
            },
            "is a function of account 999999999999, region us-east-1; this guardrail acts in account 1234",
        ),
        (
            {
                "action": "restore",
                "functions": [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:nightly-batch"],
            },
            "is a function of account 123456789012, region eu-west-1",
        ),
        (
            {"action": "throttle", "reason": "x", "functions": ["nightly batch"]},
            "is not a Lambda function name",
        ),
        (["throttle"], "must be one JSON object"),
        ("throttle", "must be one JSON object"),
    ],
)
def test_malformed_request_changes_nothing_and_names_the_problem(
    invoke, deployed, functions, payload, message
):
    response = invoke(payload)

    assert response["ok"] is False
    assert response["error"]["type"] == "InvalidRequest"
    assert message in response["error"]["message"]
    assert deployed.reservation("nightly-batch") == 7
    assert (
        Ledger(
            deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
        ).active()
        == []
    )
    assert deployed.alerts() == []


def test_one_request_restores_functions_and_workgroups(invoke, deployed, functions, workgroups):
    """Athena is faked at the adapter boundary with botocore's Stubber (moto cannot update a workgroup)."""
    workgroups.expect_disable("primary", prior="ENABLED")
    response = invoke(
        {"action": "throttle", "functions": ["nightly-batch"], "workgroups": ["primary"], "reason": "loop"}
    )
    here = {"account": ACCOUNT, "region": "us-east-1"}  # every result names where its target is
    assert response["results"] == [
        {
            "function": "nightly-batch",
            **here,
            "result": "throttled",
            "prior_reservation": 7,
            "alert_sent": True,
        },
        {"workgroup": "primary", **here, "result": "disabled", "prior_state": "ENABLED", "alert_sent": True},
    ]
    status = invoke({"action": "status"})["results"]
    # oldest first; these two were throttled at the same time, in parallel: either order
    assert sorted((r.get("function") or r.get("workgroup"), r["result"]) for r in status) == [
        ("nightly-batch", "throttled"),
        ("primary", "disabled"),
    ]

    workgroups.expect_restore("primary", "ENABLED")
    restored = invoke(
        {"action": "restore", "functions": ["nightly-batch"], "workgroups": "all", "confirm": RESTORE_ALL}
    )

    assert results(restored) == {"nightly-batch": "restored"}
    assert [r["result"] for r in restored["results"] if "workgroup" in r] == ["restored"]
    assert deployed.reservation("nightly-batch") == 7
    assert invoke({"action": "status"})["results"] == []
    assert invoke({"action": "restore", "workgroups": "all", "confirm": RESTORE_ALL})["results"] == []


def test_one_functions_aws_failure_does_not_lose_the_others(invoke, deployed, functions, monkeypatch):
    def deny(params, **_kwargs):
        if params.get("FunctionName") == "report-builder":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetFunction")

    deployed.session.events.register("before-parameter-build.lambda.GetFunction", deny)
    monkeypatch.setattr(
        kill_switch, "build_enforcer", lambda settings: build_enforcer(settings, session=deployed.session)
    )
    response = invoke(
        {"action": "throttle", "functions": ["nightly-batch", "report-builder"], "reason": "loop"}
    )

    assert results(response) == {"nightly-batch": "throttled", "report-builder": "error"}
    assert response["results"][1]["error"] == "AccessDeniedException: no"
    assert deployed.reservation("nightly-batch") == 0
    assert deployed.reservation("report-builder") is None
