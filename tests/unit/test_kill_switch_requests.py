import re

import pytest

from guardrail.domain import Target, TargetKind
from guardrail.kill_switch import PanicRequest, RestoreRequest, StatusRequest, ThrottleRequest, parse_request
from guardrail.kill_switch.requests import InvalidRequest, confirmation
from guardrail.scope import Scope

ACCOUNT = "123456789012"
SCOPE = Scope(ACCOUNT, "us-east-1")


def parse(**action_fields):
    """Parse one request for the kill switch of ACCOUNT: `parse(panic={...})`."""
    [(action, fields)] = action_fields.items()
    return parse_request({"action": action, **fields}, scope=SCOPE)


def test_valid_requests_parse_to_their_models():
    throttle = parse(
        throttle={"reason": "loop", "functions": ["a", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:b", "a"]}
    )
    assert isinstance(throttle, ThrottleRequest)
    # names are the kill switch's own account and region's; an ARN places itself
    assert throttle.functions == [
        Target.function("a", ACCOUNT, "us-east-1"),
        Target.function("b", ACCOUNT, "us-east-1"),
    ]
    assert parse(restore={"functions": "all", "confirm": f"restore-all-{ACCOUNT}"}) == RestoreRequest(
        action="restore", functions="all", confirm=f"restore-all-{ACCOUNT}"
    )
    assert isinstance(parse(status={}), StatusRequest)
    assert isinstance(parse(panic={"reason": "r", "confirm": f"panic-{ACCOUNT}"}), PanicRequest)


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidRequest) as error:
        parse(throttle={"functions": ["ok", "not ok"], "reason": "", "force": True})
    message = str(error.value)
    assert "functions" in message and "'not ok'" in message
    assert "reason: String should have at least 1 character" in message
    assert "force: Extra inputs are not permitted" in message


def test_workgroups_are_named_alone_or_with_functions_and_validated_by_their_action():
    restore = parse(restore={"workgroups": [" primary ", "primary", "etl.v2"]})
    here = (ACCOUNT, "us-east-1")
    assert restore.targets() == [Target.workgroup("primary", *here), Target.workgroup("etl.v2", *here)]
    assert restore.all_of() == []
    both = parse(restore={"functions": ["a"], "workgroups": "all", "confirm": f"restore-all-{ACCOUNT}"})
    assert (both.targets(), both.all_of()) == ([Target.function("a", *here)], [TargetKind.WORKGROUP])
    throttle = parse(throttle={"workgroups": ["primary"], "reason": "r"})
    assert throttle.targets() == [Target.workgroup("primary", *here)]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"action": "restore", "workgroups": 5},
            'workgroups: must be "all" or a non-empty list of workgroup names',
        ),
        ({"action": "restore", "workgroups": []}, "non-empty list"),
        ({"action": "restore", "workgroups": ["w" * 129]}, "is not an Athena workgroup name"),
        ({"action": "restore"}, "request: name functions, workgroups, or both"),
        ({"action": "panic", "reason": "r", "workgroups": ["primary"]}, "workgroups: Extra inputs"),
    ],
)
def test_bad_workgroup_requests_name_the_problem(request_, message):
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        parse_request(request_, scope=SCOPE)


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"action": "panic", "reason": "r"}, "panic"),
        ({"action": "restore", "functions": "all"}, "restore-all"),
        ({"action": "restore", "functions": ["a"], "workgroups": "all"}, "restore-all"),
    ],
)
def test_destructive_requests_are_refused_without_their_confirmation(fields, what):
    """Issue 9: a bare panic or restore of "all" is refused, naming what is missing; only the token passes."""
    token = f'"confirm": "{what}-<account id>" with the id of the account the kill switch runs in'
    with pytest.raises(InvalidRequest) as missing:
        parse_request(fields, scope=SCOPE)
    assert str(missing.value) == f"confirm: required for {what}: add {token}; nothing was changed"
    for wrong in (what, f"{what}-210987654321", "yes", True, f"{what}-{ACCOUNT} "):
        with pytest.raises(InvalidRequest, match="confirm: "):
            parse_request({**fields, "confirm": wrong}, scope=SCOPE)
    confirmed = parse_request({**fields, "confirm": f"{what}-{ACCOUNT}"}, scope=SCOPE)
    assert confirmed.destructive() == what
    assert confirmation(what, ACCOUNT) == f"{what}-{ACCOUNT}"


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "restore", "functions": ["a"], "confirm": f"restore-all-{ACCOUNT}"},
        {"action": "throttle", "functions": ["a"], "reason": "r", "confirm": f"panic-{ACCOUNT}"},
        {"action": "status", "confirm": f"panic-{ACCOUNT}"},
    ],
)
def test_only_destructive_requests_take_a_confirmation(fields):
    with pytest.raises(InvalidRequest, match="confirm: "):
        parse_request(fields, scope=SCOPE)


@pytest.mark.parametrize(
    ("ref", "where"),
    [
        (
            "arn:aws:lambda:us-east-1:999999999999:function:payments-core",
            "account 999999999999, region us-east-1",
        ),
        (
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:payments-core",
            f"account {ACCOUNT}, region eu-west-1",
        ),
        ("999999999999:function:payments-core", "account 999999999999"),
    ],
)
def test_an_arn_of_another_account_or_region_is_refused_never_read_as_the_local_function(ref, where):
    with pytest.raises(InvalidRequest, match=re.escape(f"is a function of {where}; this guardrail acts in")):
        parse(throttle={"reason": "loop", "functions": ["a", ref]})
    with pytest.raises(InvalidRequest, match="is a function of"):
        parse(restore={"functions": [ref]})


def test_a_qualified_arn_of_this_scope_names_the_function():
    request = parse(restore={"functions": [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:batch:prod"]})
    assert isinstance(request, RestoreRequest)
    assert request.functions == [Target.function("batch", ACCOUNT, "us-east-1")]
