import pytest

from guardrail.config import GuardrailConfig
from guardrail.config.fleet import MemberAccount
from guardrail.domain import Expectation, Target, TargetFacts, TargetKind
from guardrail.enforcement import Decision, Exemptions, decide
from guardrail.enforcement.policy import decide_at, unmet, unversioned_layer
from guardrail.errors import ForeignFunctionRef, InvalidFunctionRef
from guardrail.scope import Scope, function_name

OWN = GuardrailConfig().own_functions()
HOME = Scope("123456789012", "us-west-2")
LAYER = "arn:aws:lambda:us-west-2:123456789012:layer:runaway-guardrail-recursion-guard"
ROLE = "arn:aws:iam::123456789012:role/nightly-batch-role"


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


def test_function_name_in_a_scope_refuses_arns_of_another_account_or_region():
    assert function_name("arn:aws:lambda:us-west-2:123456789012:function:batch:prod", HOME) == "batch"
    assert function_name("123456789012:function:batch", HOME) == "batch"
    assert function_name("batch", HOME) == "batch"
    for foreign in (
        "arn:aws:lambda:us-west-2:999999999999:function:batch",
        "arn:aws:lambda:ap-northeast-1:123456789012:function:batch",
        "999999999999:function:batch",
    ):
        with pytest.raises(
            ForeignFunctionRef, match="this guardrail acts in account 123456789012, region us-west-2"
        ):
            function_name(foreign, HOME)


def test_scope_of_a_function_and_its_layers():
    scope = Scope.of_function(
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:runaway-guardrail-kill-switch"
    )
    assert scope == Scope("123456789012", "cn-north-1", "aws-cn")
    assert scope.layer_arn("guard") == "arn:aws-cn:lambda:cn-north-1:123456789012:layer:guard"
    with pytest.raises(ValueError, match="not a Lambda function ARN"):
        Scope.of_function("arn:aws:iam::123456789012:role/x")


def _decide(name="batch", tags=None, exempt=frozenset(), notify_only=False, kind=TargetKind.FUNCTION):
    facts = TargetFacts(Target(kind, name), prior=None, tags=tags or {})
    exemptions = Exemptions(own={TargetKind.FUNCTION: OWN}, names={TargetKind.FUNCTION: exempt})
    return decide(facts, exemptions=exemptions, notify_only=notify_only)


def test_own_functions_by_their_exact_deployed_names_never_by_prefix_or_tag():
    assert {
        "runaway-guardrail-kill-switch",
        "runaway-guardrail-recursion-watch",
        "runaway-guardrail-invocation-scan",
        "runaway-guardrail-athena-watch",
    } == OWN
    assert _decide("runaway-guardrail-kill-switch", notify_only=True) is Decision.GUARDRAIL_OWN
    # anyone may name or tag a function: neither makes it the guardrail's
    assert _decide("runaway-guardrail-payments") is Decision.ENFORCE
    assert _decide("x", tags={"guardrail:component": "runaway-guardrail"}) is Decision.ENFORCE
    assert _decide("runaway-guardrail-kill-switch", kind=TargetKind.WORKGROUP) is Decision.ENFORCE


def _facts(layers=(), tags=None, role=ROLE):
    return TargetFacts(Target.function("nightly-batch"), None, tags or {}, role, tuple(layers))


def test_a_refusal_is_borne_out_only_by_a_function_that_runs_the_guard():
    guard = Expectation(guard_layer=LAYER)
    assert unmet(guard, _facts([f"{LAYER}:7"])) is None
    assert unmet(guard, _facts(tags={"guardrail:guarded": "true"})) is None
    assert "does not run the recursion guard" in unmet(guard, _facts())
    assert unmet(guard, _facts([f"{LAYER}-copy:1", "arn:aws:lambda:us-west-2:999999999999:layer:x:1"]))
    assert unmet(Expectation(guard_layer=""), _facts([f"{LAYER}:7"]))  # none configured: nothing is
    assert unmet(Expectation(), _facts()) is None
    assert unversioned_layer(f"{LAYER}:12") == LAYER
    assert unversioned_layer("not-an-arn") == ""


def test_an_athena_caller_is_the_function_only_with_its_execution_role():
    assert unmet(Expectation(role_arn=ROLE), _facts()) is None
    doubt = unmet(Expectation(role_arn="arn:aws:iam::123456789012:role/data-analyst"), _facts())
    assert doubt == (
        "the caller's role arn:aws:iam::123456789012:role/data-analyst is not nightly-batch's execution role "
        f"{ROLE}"
    )


def test_exemptions_and_modes():
    assert _decide(exempt=frozenset({"batch"})) is Decision.EXEMPT_BY_NAME
    assert _decide(tags={"guardrail:exempt": " TRUE "}) is Decision.EXEMPT_BY_TAG
    assert _decide(tags={"guardrail:exempt": "false"}) is Decision.ENFORCE
    assert _decide(notify_only=True) is Decision.NOTIFY_ONLY
    assert Decision.EXEMPT_BY_TAG.exempt and not Decision.NOTIFY_ONLY.exempt


def test_function_exemptions_by_name_do_not_reach_workgroups():
    assert _decide("batch", exempt=frozenset({"batch"}), kind=TargetKind.WORKGROUP) is Decision.ENFORCE
    assert _decide("primary", notify_only=True, kind=TargetKind.WORKGROUP) is Decision.NOTIFY_ONLY


@pytest.mark.parametrize(
    ("ref", "account", "region", "decision"),
    [
        ("batch", "123456789012", "us-west-2", Decision.EXEMPT_BY_NAME),
        ("batch", "123456789012", "eu-west-1", Decision.EXEMPT_BY_NAME),  # every region of the home account
        ("batch", "222222222222", "us-west-2", Decision.ENFORCE),  # a member's namesake
        (
            "arn:aws:lambda:us-west-2:222222222222:function:batch",
            "222222222222",
            "us-west-2",
            Decision.EXEMPT_BY_NAME,
        ),
        (
            "arn:aws:lambda:us-west-2:222222222222:function:batch",
            "222222222222",
            "eu-west-1",
            Decision.ENFORCE,
        ),
        (
            "arn:aws:lambda:us-west-2:222222222222:function:batch",
            "333333333333",
            "us-west-2",
            Decision.ENFORCE,
        ),
        (
            "arn:aws:lambda:us-west-2:222222222222:function:batch",
            "123456789012",
            "us-west-2",
            Decision.ENFORCE,
        ),
    ],
)
def test_a_configured_exemption_names_a_place(ref, account, region, decision):
    facts = TargetFacts(target=Target.function("batch", account, region), prior=None)
    found = decide_at(
        facts,
        exemptions=Exemptions(names={TargetKind.FUNCTION: frozenset({ref})}),
        notify_only=False,
        member=MemberAccount(),
        home=HOME,
    )
    assert found is decision


def test_a_members_section_exempts_its_own_functions():
    facts = TargetFacts(target=Target.function("batch", "222222222222", "us-west-2"), prior=None)
    own = MemberAccount(exempt_functions=("batch",))
    assert decide_at(facts, exemptions=Exemptions(), notify_only=False, member=own, home=HOME).exempt
