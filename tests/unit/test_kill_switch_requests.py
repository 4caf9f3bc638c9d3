import pytest

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
