"""The operator always wins, and nothing stays half-done: the deployed handlers, in an organization, on moto.

Findings come through the recursion watch's handler (AWS Health's loop notices, placed in the account
and region AWS names), operators through the kill switch's handler. The enforcers the handlers build
read a test clock, so an hour passes in a line.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from devtools.fleet import MEMBER
from devtools.lambda_runtime import lambda_context
from guardrail.config import GuardrailConfig
from guardrail.handlers import kill_switch, recursion_watch
from guardrail.handlers.composition import build_enforcer
from tests.conftest import ACCOUNT, PREFIX, Clock
from tests.integration.fleet.health_notices import health_event

from .conftest import OREGON, ORGANIZATION, OTHER_MEMBER, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test

PANIC = f"panic-{ACCOUNT}"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock of every enforcer the handlers build in this test."""
    now = Clock()
    for handler in (recursion_watch, kill_switch):
        monkeypatch.setattr(handler, "build_enforcer", functools.partial(build_enforcer, clock=now))
    monkeypatch.setattr(kill_switch, "utc_now", now)
    return now


@pytest.fixture
def watch(fleet: Fleet, invoke, clock):  # invoke: the handlers' environment
    """The recursion watch's handler: `watch(account, *functions, event_id=...)` -> its results."""

    def call(account: str, *functions: str, event_id: str) -> list[dict[str, Any]]:
        event = health_event(account, OREGON, *functions, event_id=event_id)
        answer = recursion_watch.handler(event, lambda_context("runaway-guardrail-recursion-watch"))
        assert answer["ok"], answer
        return answer["results"]

    return call


def throttle(name: str, account: str) -> dict[str, Any]:
    """The kill switch's throttle of one function in `account`, us-west-2."""
    return {"action": "throttle", "functions": [name], "account": account, "region": OREGON, "reason": "now"}


def panic_in(account: str) -> dict[str, Any]:
    """A confirmed panic in `account`, us-west-2."""
    return {
        "action": "panic",
        "reason": "drill",
        "accounts": [account],
        "regions": [OREGON],
        "confirm": PANIC,
    }


def results(answer: list[dict[str, Any]]) -> list[str]:
    return [r["result"] for r in answer]


def test_a_runaway_held_back_by_the_open_breaker_is_throttled_by_its_finding_in_the_next_window(
    fleet, watch, invoke, clock, alerts
):
    decoys = [f"batch-{i}" for i in range(5)]
    for name in [*decoys, "runaway"]:
        fleet.function(ACCOUNT, OREGON, name, reserved=7)

    assert results(watch(ACCOUNT, *decoys, event_id="genuine")) == ["throttled"] * 5
    clock.advance(minutes=5)
    assert results(watch(ACCOUNT, "runaway", event_id="while-open")) == ["would-throttle"]
    clock.advance(minutes=30)
    [flagged] = [r for r in invoke({"action": "status"})["results"] if r["function"] == "runaway"]
    assert (flagged["result"], flagged["age_minutes"]) == ("flagged", 30)
    assert flagged["held_back"].startswith("circuit breaker open in account")
    clock.advance(minutes=26)  # the five slots were taken 61 minutes ago

    [later] = watch(ACCOUNT, "runaway", event_id="next-window")

    assert (later["result"], later["prior_reservation"]) == ("throttled", 7)
    assert fleet.reservation(ACCOUNT, OREGON, "runaway") == 0
    sent = alerts()
    assert [a["event_type"] for a in sent].count("breaker-open") == 1
    [throttled] = [a for a in sent if a["event_type"] == "throttled" and a["function"] == "runaway"]
    assert "it waited" in throttled["reason"]
    assert "circuit breaker open" in throttled["evidence"]["waited"]


def test_the_kill_switch_throttles_and_panics_a_flagged_function_at_any_time(fleet, watch, invoke, clock):
    for name in [*(f"batch-{i}" for i in range(5)), "runaway", "other-runaway"]:
        fleet.function(ACCOUNT, OREGON, name, reserved=7)
    watch(ACCOUNT, *(f"batch-{i}" for i in range(5)), event_id="genuine")
    assert results(watch(ACCOUNT, "runaway", "other-runaway", event_id="held")) == ["would-throttle"] * 2

    throttled = invoke(
        {
            "action": "throttle",
            "functions": ["runaway"],
            "account": ACCOUNT,
            "region": OREGON,
            "reason": "now",
        }
    )
    panic = invoke(
        {
            "action": "panic",
            "reason": "all of it",
            "accounts": [ACCOUNT],
            "regions": [OREGON],
            "confirm": PANIC,
        }
    )

    assert results(throttled["results"]) == ["throttled"]
    by_name = {r["function"]: r["result"] for r in panic["results"]}
    assert by_name["runaway"] == "already-throttled"
    assert by_name["other-runaway"] == "throttled"  # flagged, and the breaker still open: the panic acts
    assert fleet.reservation(ACCOUNT, OREGON, "runaway") == 0
    assert fleet.reservation(ACCOUNT, OREGON, "other-runaway") == 0
    held = {r["function"]: r for r in invoke({"action": "status"})["results"]}
    assert (held["other-runaway"]["detector"], held["other-runaway"]["prior_reservation"]) == (
        "kill-switch:panic",
        7,
    )


def test_the_kill_switch_acts_in_a_notify_only_account(fleet, watch, invoke, monkeypatch):
    notify_only = {**ORGANIZATION, "accounts": {MEMBER: {"notifyOnly": True}}}
    config = GuardrailConfig.from_context(
        {"namePrefix": PREFIX, "regions": [OREGON], "organization": notify_only}
    )
    monkeypatch.setenv(
        "GUARDRAIL_CONFIG", fleet.settings.model_copy(update={"config": config}).to_env()["GUARDRAIL_CONFIG"]
    )
    fleet.member_role(MEMBER)
    for name in ("runaway", "other-runaway"):
        fleet.function(MEMBER, OREGON, name, reserved=4)
    assert results(watch(MEMBER, "runaway", event_id="flagged")) == ["would-throttle"]

    throttled = invoke(throttle("runaway", MEMBER))
    panic = invoke(panic_in(MEMBER))

    assert results(throttled["results"]) == ["throttled"]
    assert {r["function"]: r["result"] for r in panic["results"]} == {
        "runaway": "already-throttled",
        "other-runaway": "throttled",
    }
    assert fleet.reservation(MEMBER, OREGON, "runaway") == 0
    assert fleet.reservation(MEMBER, OREGON, "other-runaway") == 0
    assert results(watch(MEMBER, "runaway", event_id="after")) == ["already-throttled"]


def test_a_members_five_decoys_leave_the_central_and_another_members_runaways_throttled(fleet, watch):
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    decoys = [f"decoy-{i}" for i in range(6)]
    for name in decoys:
        fleet.function(MEMBER, OREGON, name, reserved=1)
    fleet.function(ACCOUNT, OREGON, "runaway", reserved=7)
    fleet.function(OTHER_MEMBER, OREGON, "runaway", reserved=3)

    assert results(watch(MEMBER, *decoys, event_id="decoys")) == ["throttled"] * 5 + ["would-throttle"]
    assert results(watch(ACCOUNT, "runaway", event_id="central")) == ["throttled"]
    assert results(watch(OTHER_MEMBER, "runaway", event_id="other")) == ["throttled"]
    assert fleet.reservation(ACCOUNT, OREGON, "runaway") == 0
    assert fleet.reservation(OTHER_MEMBER, OREGON, "runaway") == 0
