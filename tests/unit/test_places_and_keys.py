"""Targets in other accounts and regions: their ledger keys, references, alerts and kill-switch requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from guardrail.adapters.ledger.table import TargetKeys
from guardrail.alerts.events import AlertEvent, Phase
from guardrail.alerts.render import render
from guardrail.domain import Target
from guardrail.kill_switch.requests import InvalidRequest, PanicRequest, RestoreRequest, parse_request
from guardrail.scope import Scope

HOME = Scope("111111111111", "ap-northeast-1", regions=frozenset({"us-west-2"}), organization=True)
SINGLE = Scope("111111111111", "ap-northeast-1")
AT = datetime(2026, 11, 28, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("target", "pk"),
    [
        (Target.function("batch"), "FUNCTION#batch"),
        (Target.function("batch", "111111111111", "ap-northeast-1"), "FUNCTION#batch"),
        (Target.function("batch", "111111111111", "us-west-2"), "FUNCTION#111111111111#us-west-2#batch"),
        (
            Target.workgroup("primary", "222222222222", "us-west-2"),
            "WORKGROUP#222222222222#us-west-2#primary",
        ),
    ],
)
def test_home_targets_keep_their_keys_and_others_are_qualified(target, pk):
    keys = TargetKeys(HOME)
    assert keys.pk(target) == pk
    assert keys.target(pk) == target.located(HOME.account, HOME.region)


def test_a_reader_without_a_home_reads_keys_as_written():
    keys = TargetKeys()
    assert keys.target("FUNCTION#batch") == Target.function("batch")
    assert keys.target("FUNCTION#2#r#batch") == Target.function("batch", "2", "r")


def test_alerts_name_the_targets_place_and_undo_it_by_arn_through_the_home_kill_switch():
    target = Target.function("nightly-batch", "222222222222", "us-west-2")
    event = AlertEvent(
        Phase.APPLIED, target, "d", "loop", AT, "us-west-2", "rg-kill-switch", prior=7, home=HOME
    )
    alert = render(event)
    document = alert.document
    assert (document["account"], document["region"]) == ("222222222222", "us-west-2")
    arn = "arn:aws:lambda:us-west-2:222222222222:function:nightly-batch"
    assert document["undo"]["payload"] == {"action": "restore", "functions": [arn]}
    assert document["undo"]["guardrail_cli"].startswith("guardrail --region ap-northeast-1 ")
    assert "(account 222222222222, us-west-2)" in alert.text


def test_a_home_target_is_undone_by_name_as_before():
    target = Target.function("nightly-batch", HOME.account, HOME.region)
    event = AlertEvent(
        Phase.APPLIED, target, "d", "loop", AT, HOME.region, "rg-kill-switch", prior=7, home=HOME
    )
    assert render(event).document["undo"]["payload"]["functions"] == ["nightly-batch"]


def test_names_are_placed_by_the_requests_account_and_region_and_arns_by_themselves():
    request = parse_request(
        {
            "action": "throttle",
            "functions": ["batch", "arn:aws:lambda:ap-northeast-1:111111111111:function:api"],
            "workgroups": ["arn:aws:athena:us-west-2:333333333333:workgroup/primary"],
            "account": "222222222222",
            "region": "us-west-2",
            "reason": "loop",
        },
        scope=HOME,
    )
    assert request.targets() == [
        Target.function("batch", "222222222222", "us-west-2"),
        Target.function("api", "111111111111", "ap-northeast-1"),
        Target.workgroup("primary", "333333333333", "us-west-2"),
    ]


def test_panic_defaults_to_the_kill_switchs_own_place_and_takes_only_watched_ones():
    request = parse_request({"action": "panic", "reason": "r", "confirm": "panic-111111111111"}, scope=HOME)
    assert isinstance(request, PanicRequest)
    assert request.places(HOME) == [("111111111111", "ap-northeast-1")]
    scoped = parse_request(
        {
            "action": "panic",
            "reason": "r",
            "accounts": ["222222222222"],
            "regions": ["us-west-2", "ap-northeast-1"],
            "confirm": "panic-111111111111",
        },
        scope=HOME,
    )
    assert isinstance(scoped, PanicRequest)
    assert scoped.places(HOME) == [("222222222222", "us-west-2"), ("222222222222", "ap-northeast-1")]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"action": "panic", "reason": "r", "regions": ["eu-west-1"]},
            "regions: region eu-west-1 is not watched",
        ),
        ({"action": "panic", "reason": "r", "accounts": ["12"]}, "accounts: '12' is not an AWS account id"),
        (
            {"action": "throttle", "functions": ["f"], "account": "222222222222", "reason": "r"},
            "account: account 222222222222 is not watched",
        ),
        (
            {"action": "restore", "functions": ["f"], "accounts": ["111111111111"]},
            'accounts and regions narrow a restore of "all"',
        ),
    ],
)
def test_places_outside_the_scope_are_refused_by_name(payload, message):
    scope = HOME if "accounts" in payload or "regions" in payload else SINGLE
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        parse_request(payload, scope=scope)


def test_restore_all_narrowed_to_one_account_covers_only_its_targets():
    request = parse_request(
        {
            "action": "restore",
            "functions": "all",
            "accounts": ["222222222222"],
            "confirm": "restore-all-111111111111",
        },
        scope=HOME,
    )
    assert isinstance(request, RestoreRequest)
    assert request.covers(Target.function("a", "222222222222", "us-west-2"))
    assert not request.covers(Target.function("a", "111111111111", "us-west-2"))


def test_home_is_the_scopes_own_account_and_region_a_blank_standing_for_either():
    assert HOME.is_home("111111111111", "ap-northeast-1")
    assert HOME.is_home("", "ap-northeast-1") and HOME.is_home("111111111111", "")
    assert not HOME.is_home("111111111111", "us-west-2")
    assert not HOME.is_home("222222222222", "ap-northeast-1")
