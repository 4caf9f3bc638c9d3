import re

import pytest

from guardrail.domain import Target, TargetKind
from guardrail.kill_switch import PanicRequest, RestoreRequest, StatusRequest, ThrottleRequest, parse_request
from guardrail.kill_switch.requests import InvalidRequest


def test_valid_requests_parse_to_their_models():
    throttle = parse_request(
        {
            "action": "throttle",
            "reason": "loop",
            "functions": ["a", "arn:aws:lambda:us-east-1:123456789012:function:b", "a"],
        }
    )
    assert isinstance(throttle, ThrottleRequest)
    assert throttle.functions == ["a", "b"]
    assert parse_request({"action": "restore", "functions": "all"}) == RestoreRequest(
        action="restore", functions="all"
    )
    assert isinstance(parse_request({"action": "status"}), StatusRequest)
    assert isinstance(parse_request({"action": "panic", "reason": "r"}), PanicRequest)


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidRequest) as error:
        parse_request({"action": "throttle", "functions": ["ok", "not ok"], "reason": "", "force": True})
    message = str(error.value)
    assert "functions" in message and "'not ok'" in message
    assert "reason: String should have at least 1 character" in message
    assert "force: Extra inputs are not permitted" in message


def test_workgroups_are_named_alone_or_with_functions_and_validated_by_their_action():
    restore = parse_request({"action": "restore", "workgroups": [" primary ", "primary", "etl.v2"]})
    assert restore.targets() == [Target.workgroup("primary"), Target.workgroup("etl.v2")]
    assert restore.all_of() == []
    both = parse_request({"action": "restore", "functions": ["a"], "workgroups": "all"})
    assert (both.targets(), both.all_of()) == ([Target.function("a")], [TargetKind.WORKGROUP])
    throttle = parse_request({"action": "throttle", "workgroups": ["primary"], "reason": "r"})
    assert throttle.targets() == [Target.workgroup("primary")]


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
        parse_request(request_)
