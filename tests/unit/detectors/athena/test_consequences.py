"""What an action asks of enforcement: a caller's function, then its workgroup, then a notice, as data."""

from __future__ import annotations

from datetime import UTC, datetime

from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.detect import Action, Totals, caller_actions, consequence, limit_breaches
from guardrail.detectors.athena.query_events import Caller
from guardrail.domain import Expectation, Fallback, Finding, Notice, Target

AT = datetime(2026, 11, 28, 2, 5, tzinfo=UTC)
PLACE = ("222222222222", "eu-west-1")
ROLE = "arn:aws:iam::222222222222:role/batch-role"
LAMBDA = Caller(arn=ROLE, identity_type="AssumedRole", function="batch")
USER = Caller(arn="arn:aws:iam::222222222222:user/alice", identity_type="IAMUser")
STRICT = AthenaWatchConfig.parse({"workgroups": {"adhoc": {"disableOnRunaway": True}}})


def action(config: AthenaWatchConfig, caller: Caller) -> Action:
    """The one action a caller's 99 queries in the window come to."""
    rate = limit_breaches(config.caller, Totals(window_queries=99), window_minutes=5)
    [only] = caller_actions(config, caller, "adhoc", rate, {"query_id": "q-9"})
    return only


def test_a_lambda_caller_is_throttled_else_its_workgroup_disabled_else_told_all_where_the_event_is():
    step = consequence(action(STRICT, LAMBDA), AT, "event-1", PLACE, guard_layer="arn:layer")

    assert isinstance(step, Finding) and step.fallback is not None
    assert (step.target, step.dedupe_key) == (
        Target.function("batch", *PLACE),
        "athena-watch:event-1:query-rate",
    )
    assert step.expect == Expectation(role_arn=ROLE, guard_layer="arn:layer")
    disable = step.fallback.then
    assert isinstance(disable, Finding) and disable.fallback is not None
    assert (disable.target, disable.dedupe_key) == (
        Target.workgroup("adhoc", *PLACE),
        "athena-watch:event-1:query-rate:workgroup",
    )
    assert (step.fallback.if_exempt, disable.fallback.if_exempt) == (False, True)
    notice = disable.fallback.then
    assert isinstance(notice, Notice)
    assert (notice.subject, notice.account, notice.region) == (LAMBDA.key, *PLACE)
    assert notice.dedupe_key == f"athena-watch:notice:query-rate:{LAMBDA.key}:2026-11-28T02"


def test_without_a_workgroup_to_disable_a_caller_falls_back_to_the_notice():
    step = consequence(action(AthenaWatchConfig(), LAMBDA), AT, "event-1", PLACE)

    assert isinstance(step, Finding) and step.expect == Expectation(role_arn=ROLE)
    assert step.fallback == Fallback(
        Notice(
            LAMBDA.key,
            "athena-watch",
            step.reason,
            AT,
            step.evidence,
            f"athena-watch:notice:query-rate:{LAMBDA.key}:2026-11-28T02",
            account=PLACE[0],
            region=PLACE[1],
        )
    )


def test_a_caller_that_is_no_function_disables_its_workgroup_or_is_only_told_about():
    strict = consequence(action(STRICT, USER), AT, "event-1", PLACE)
    plain = consequence(action(AthenaWatchConfig(), USER), AT, "event-1", PLACE)

    assert isinstance(strict, Finding) and strict.target == Target.workgroup("adhoc", *PLACE)
    assert strict.fallback is not None and isinstance(strict.fallback.then, Notice)
    assert isinstance(plain, Notice) and (plain.subject, plain.account) == (USER.key, PLACE[0])
