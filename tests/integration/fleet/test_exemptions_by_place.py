"""Exemptions name a place: a bare name is the home account's, others' functions by ARN or their section.

Through the recursion watch's handler, with AWS Health notices about each account (the notice of
tests/events/health/, placed as test_health_copies does). Before, a top-level `exemptFunctions` name
exempted a function of that name in every member account and region: a member escaped by naming a
function after an exempt one.
"""

from __future__ import annotations

import pytest

from devtools.fleet import MEMBER
from guardrail.config import GuardrailConfig
from tests.conftest import ACCOUNT

from .conftest import HOME, OREGON, OTHER_MEMBER, Fleet
from .health_notices import notice

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


def exempting(fleet: Fleet, *refs: str) -> None:
    """Deploy the fleet's guardrail again with top-level `exemptFunctions` = `refs`."""
    config = GuardrailConfig.model_validate({**fleet.settings.config.model_dump(), "exempt_functions": refs})
    fleet.settings = fleet.settings.model_copy(update={"config": config})


def test_a_bare_name_exempts_the_home_accounts_function_in_every_region_and_no_members(fleet, watch):
    exempting(fleet, "ledger-sync")
    fleet.member_role(MEMBER)
    for account, region in ((ACCOUNT, HOME), (ACCOUNT, OREGON), (MEMBER, OREGON)):
        fleet.function(account, region, "ledger-sync", reserved=4)

    home = watch(notice(affected=ACCOUNT, region=HOME, entity="ledger-sync"))
    oregon = watch(notice(affected=ACCOUNT, region=OREGON, entity="ledger-sync"))
    member = watch(notice(affected=MEMBER, region=OREGON, entity="ledger-sync"))

    assert [r["result"] for r in home + oregon + member] == ["exempt", "exempt", "throttled"]
    assert fleet.reservation(MEMBER, OREGON, "ledger-sync") == 0
    assert fleet.reservation(ACCOUNT, OREGON, "ledger-sync") == 4


def test_an_arn_exempts_that_one_function_of_another_account(fleet, watch):
    exempting(fleet, f"arn:aws:lambda:{OREGON}:{MEMBER}:function:reports")
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    fleet.function(MEMBER, OREGON, "reports", reserved=4)
    fleet.function(OTHER_MEMBER, OREGON, "reports", reserved=4)
    fleet.function(ACCOUNT, OREGON, "reports", reserved=4)

    results = [
        watch(notice(affected=account, region=OREGON, entity="reports"))[0]["result"]
        for account in (MEMBER, OTHER_MEMBER, ACCOUNT)
    ]

    assert results == ["exempt", "throttled", "throttled"]
    assert fleet.reservation(MEMBER, OREGON, "reports") == 4


def test_a_members_own_section_exempts_its_functions_only(fleet, watch):
    # conftest's organization: OTHER_MEMBER's section exempts "ledger-sync"
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    fleet.function(OTHER_MEMBER, OREGON, "ledger-sync", reserved=4)
    fleet.function(MEMBER, OREGON, "ledger-sync", reserved=4)

    own = watch(notice(affected=OTHER_MEMBER, region=OREGON, entity="ledger-sync"))
    other = watch(notice(affected=MEMBER, region=OREGON, entity="ledger-sync"))

    assert [r["result"] for r in own + other] == ["exempt", "throttled"]
