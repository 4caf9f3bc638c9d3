import pytest

from guardrail.domain import Target, TargetFacts, TargetKind
from guardrail.enforcement import Decision, Exemptions, decide
from guardrail.errors import InvalidFunctionRef
from guardrail.functions import function_name


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("nightly-batch", "nightly-batch"),
        ("arn:aws:lambda:us-west-2:123456789012:function:nightly-batch", "nightly-batch"),
        ("arn:aws:lambda:us-west-2:123456789012:function:nightly-batch:prod", "nightly-batch"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:fn_1", "fn_1"),
        ("123456789012:function:nightly-batch", "nightly-batch"),
        ("  padded  ", "padded"),
    ],
)
def test_function_name_accepts_names_and_arns(ref, name):
    assert function_name(ref) == name


@pytest.mark.parametrize("ref", ["", "has space", "a" * 65, "arn:aws:s3:::bucket", "fn/../etc"])
def test_function_name_rejects_anything_else(ref):
    with pytest.raises(InvalidFunctionRef):
        function_name(ref)


def _decide(name="batch", tags=None, exempt=frozenset(), notify_only=False, kind=TargetKind.FUNCTION):
    facts = TargetFacts(Target(kind, name), prior=None, tags=tags or {})
    exemptions = Exemptions("runaway-guardrail", {TargetKind.FUNCTION: exempt})
    return decide(facts, exemptions=exemptions, notify_only=notify_only)


def test_guardrail_own_functions_come_first():
    assert _decide("runaway-guardrail-kill-switch", notify_only=True) is Decision.GUARDRAIL_OWN
    assert _decide("x", tags={"guardrail:component": "runaway-guardrail"}) is Decision.GUARDRAIL_OWN
    assert _decide("runaway-guardrailish") is Decision.ENFORCE


def test_exemptions_and_modes():
    assert _decide(exempt=frozenset({"batch"})) is Decision.EXEMPT_BY_NAME
    assert _decide(tags={"guardrail:exempt": " TRUE "}) is Decision.EXEMPT_BY_TAG
    assert _decide(tags={"guardrail:exempt": "false"}) is Decision.ENFORCE
    assert _decide(notify_only=True) is Decision.NOTIFY_ONLY
    assert Decision.EXEMPT_BY_TAG.exempt and not Decision.NOTIFY_ONLY.exempt


def test_function_exemptions_by_name_do_not_reach_workgroups():
    assert _decide("batch", exempt=frozenset({"batch"}), kind=TargetKind.WORKGROUP) is Decision.ENFORCE
    assert _decide("primary", notify_only=True, kind=TargetKind.WORKGROUP) is Decision.NOTIFY_ONLY
