"""`Athena Query Started` claims: parsed within bounds, their envelope and session checked, facts cached."""

from __future__ import annotations

import copy

import pytest

from devtools.replay import IncidentReplay
from guardrail.detectors.athena.claims import (
    CHECK_SECONDS,
    ClaimCheck,
    envelope_doubt,
    facts_doubt,
    parse_claim,
    session_role,
)
from guardrail.detectors.athena.query_events import MalformedEvent
from guardrail.domain import Target, TargetFacts
from guardrail.errors import TargetNotFound
from guardrail.scope import Scope

REPLAY = IncidentReplay(batch_queries=1, loop_minutes=0, guarded=True)
SCOPE = Scope("123456789012", "us-west-2")
LAYER = "arn:aws:lambda:us-west-2:123456789012:layer:runaway-guardrail-recursion-guard"
ROLE = "arn:aws:iam::123456789012:role/service/nightly-batch-role"
SESSION = "arn:aws:sts::123456789012:assumed-role/nightly-batch-role/nightly-batch"


def event(**detail):
    claimed = copy.deepcopy(REPLAY.claim_event(REPLAY.night_queries()[0]))
    claimed["detail"].update(detail)
    return claimed


def facts(role=ROLE, layers=(f"{LAYER}:3",), tags=None):
    return TargetFacts(Target.function("nightly-batch"), None, tags or {}, role, layers)


def test_a_claim_reads_back_what_the_guard_wrote():
    claim = parse_claim(event())
    query = REPLAY.night_queries()[0]
    assert (claim.function, claim.query_id, claim.at) == ("nightly-batch", query.query_id, query.started_at)
    assert (claim.depth, claim.chain_id, claim.query) == (1, "night-3", query.sql)
    started = claim.started(ROLE)
    assert (started.caller.key, started.query) == (f"nightly-batch@{ROLE}", query.sql)


@pytest.mark.parametrize(
    "detail",
    [
        {"function": "not a function"},
        {"function": "arn:aws:lambda:us-west-2:210987654321:function:nightly-batch"},
        {"query_execution_id": ""},
        {"depth": -1},
        {"chain_id": "c" * 129},
        {"query": "x" * (64 * 1024 + 1)},
    ],
)
def test_a_claim_past_what_the_guard_writes_is_malformed(detail):
    with pytest.raises(MalformedEvent, match="Athena Query Started"):
        parse_claim(event(**detail))


def test_only_the_functions_own_session_in_this_account_names_its_role():
    assert session_role(SESSION, "nightly-batch", SCOPE) == "nightly-batch-role"
    assert session_role(SESSION, "other", SCOPE) is None
    assert session_role(SESSION.replace("123456789012", "210987654321"), "nightly-batch", SCOPE) is None
    assert session_role("arn:aws:iam::123456789012:user/nightly-batch", "nightly-batch", SCOPE) is None
    assert session_role("", "nightly-batch", SCOPE) is None


def test_the_envelope_must_be_this_scopes():
    assert envelope_doubt(parse_claim(event()), SCOPE) is None
    foreign = {**event(), "region": "eu-west-1"}
    assert "region eu-west-1" in str(envelope_doubt(parse_claim(foreign), SCOPE))
    elsewhere = {**event(), "resources": ["arn:aws:lambda:eu-west-1:123456789012:function:nightly-batch"]}
    assert "eu-west-1" in str(envelope_doubt(parse_claim(elsewhere), SCOPE))


def test_the_function_must_run_the_guard_under_the_sessions_role():
    claim = parse_claim(event())
    assert facts_doubt(claim, facts(), guard_layer=LAYER, scope=SCOPE) is None
    assert (
        facts_doubt(
            claim, facts(layers=(), tags={"guardrail:guarded": "true"}), guard_layer=LAYER, scope=SCOPE
        )
        is None
    )
    assert "does not run the recursion guard" in str(
        facts_doubt(claim, facts(layers=()), guard_layer=LAYER, scope=SCOPE)
    )
    other = facts(role="arn:aws:iam::123456789012:role/other-role")
    assert "execution role" in str(facts_doubt(claim, other, guard_layer=LAYER, scope=SCOPE))
    foreign = facts(role="arn:aws:iam::210987654321:role/nightly-batch-role")
    assert "execution role" in str(facts_doubt(claim, foreign, guard_layer=LAYER, scope=SCOPE))


def test_the_check_reads_the_function_once_per_period_and_again_after():
    reads, now = [], [0.0]

    def read(target):  # the function of the claim's own account and region
        reads.append((target.name, target.account, target.region))
        return facts()

    check = ClaimCheck(read, clock=lambda: now[0])
    claim = parse_claim(event())
    assert check.verify(claim, scope=SCOPE, guard_layer=LAYER) == (None, ROLE)
    assert check.verify(claim, scope=SCOPE, guard_layer=LAYER) == (None, ROLE)
    assert reads == [("nightly-batch", SCOPE.account, SCOPE.region)]
    now[0] = CHECK_SECONDS
    check.verify(claim, scope=SCOPE, guard_layer=LAYER)
    assert reads == [("nightly-batch", SCOPE.account, SCOPE.region)] * 2


def test_a_claim_naming_no_function_of_the_account_is_unverified_and_a_foreign_one_reads_nothing():
    def missing(name):
        raise TargetNotFound(Target.function(name))

    check = ClaimCheck(missing)
    doubt, role = check.verify(parse_claim(event()), scope=SCOPE, guard_layer=LAYER)
    assert ("no function nightly-batch" in str(doubt), role) == (True, "")
    unread = ClaimCheck(lambda name: pytest.fail("read a function for a foreign claim"))
    foreign = parse_claim({**event(), "account": "210987654321"})
    assert "account 210987654321" in str(unread.verify(foreign, scope=SCOPE, guard_layer=LAYER)[0])
