"""The kill switch's `pause` and `resume` requests: the account must be one the guardrail watches."""

from __future__ import annotations

import pytest

from guardrail.account_pause import UNNAMED_OPERATOR
from guardrail.kill_switch import PauseRequest, ResumeRequest, parse_request
from guardrail.kill_switch.requests import InvalidRequest
from guardrail.scope import Scope

HOME = Scope("111111111111", "ap-northeast-1", regions=frozenset({"us-west-2"}))
ORGANIZATION = Scope("111111111111", "ap-northeast-1", organization=True)


def test_a_pause_names_its_account_reason_and_who_asks():
    request = parse_request(
        {"action": "pause", "account": "111111111111", "reason": "drill", "by": "arn:aws:iam::1:user/a"},
        scope=HOME,
    )
    assert isinstance(request, PauseRequest)
    assert (request.account, request.reason, request.by) == ("111111111111", "drill", "arn:aws:iam::1:user/a")


def test_who_asks_defaults_to_an_unnamed_operator():
    request = parse_request({"action": "resume", "account": "111111111111"}, scope=HOME)
    assert isinstance(request, ResumeRequest)
    assert (request.account, request.by) == ("111111111111", UNNAMED_OPERATOR)


def test_outside_an_organization_only_the_home_account_may_be_paused():
    with pytest.raises(InvalidRequest, match="account: account 222222222222 is not watched"):
        parse_request({"action": "pause", "account": "222222222222", "reason": "r"}, scope=HOME)


def test_in_an_organization_a_member_account_may_be_paused():
    request = parse_request({"action": "pause", "account": "222222222222", "reason": "r"}, scope=ORGANIZATION)
    assert isinstance(request, PauseRequest)
    assert request.account == "222222222222"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"action": "pause", "account": "111111111111"}, "reason: Field required"),
        (
            {"action": "pause", "account": "111111111111", "reason": "r" * 1001},
            "reason: String should have at most",
        ),
        (
            {"action": "pause", "account": 111111111111, "reason": "r"},
            "account: Input should be a valid string",
        ),
        ({"action": "pause", "account": "1111", "reason": "r"}, "account: String should match pattern"),
        ({"action": "pause", "reason": "r"}, "account: Field required"),
        ({"action": "resume", "account": "111111111111", "by": ""}, "by: String should have at least 1"),
        ({"action": "resume", "account": "111111111111", "region": "us-west-2"}, "region: Extra inputs"),
        ({"action": "pause", "accounts": ["111111111111"], "reason": "r"}, "accounts: Extra inputs"),
    ],
)
def test_bad_pauses_and_resumes_name_what_is_wrong(payload, problem):
    with pytest.raises(InvalidRequest, match=problem):
        parse_request(payload, scope=HOME)


def test_a_request_without_an_action_lists_pause_and_resume():
    with pytest.raises(InvalidRequest, match="history, pause, resume"):
        parse_request({"account": "111111111111"}, scope=HOME)
