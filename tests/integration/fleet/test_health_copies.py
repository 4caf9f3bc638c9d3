"""AWS Health's copies of one notice: placed where the loop ran, acted on once, never on a namesake.

AWS delivers an account-specific notice to the affected region and a copy to a backup region, and with
the organizational view a copy to the management (or delegated-admin) account: the envelope's
`region`/`account` is where the copy was delivered, `detail.eventRegion`/`detail.affectedAccount` where
the loop ran. Each copy here is AWS's sample (tests/events/health/) with only what AWS changes in a
copy changed, handed to the recursion watch's handler in the fleet of tests/integration/fleet/.
"""

from __future__ import annotations

import pytest

from devtools.fleet import MEMBER
from tests.conftest import ACCOUNT

from .conftest import HOME, OREGON
from .health_notices import delivered, notice

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


def test_the_backup_region_copy_is_the_same_finding_and_spares_the_namesake_where_it_landed(fleet, watch):
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    fleet.function(ACCOUNT, HOME, "nightly-batch", reserved=3)  # a bystander of the same name
    primary = notice(affected=ACCOUNT, region=OREGON)
    backup = delivered(primary, region=HOME)

    first = watch(backup)  # the copy may arrive first
    second = watch(primary)

    assert [(r["region"], r["result"]) for r in first] == [(OREGON, "throttled")]
    assert [(r["region"], r["result"]) for r in second] == [(OREGON, "duplicate")]
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 0
    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 3


def test_the_organizational_view_copy_acts_in_the_member_never_on_the_central_namesake(fleet, alerts, watch):
    fleet.member_role(MEMBER)
    fleet.function(MEMBER, OREGON, "nightly-batch", reserved=5)
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)  # the central account's own namesake
    members_own = notice(affected=MEMBER, region=OREGON)
    central_copy = delivered(members_own, account=ACCOUNT)

    first = watch(central_copy)
    second = watch(members_own)  # forwarded by the member's own rules

    assert [(r["account"], r["result"]) for r in first] == [(MEMBER, "throttled")]
    assert [(r["account"], r["result"]) for r in second] == [(MEMBER, "duplicate")]
    assert fleet.reservation(MEMBER, OREGON, "nightly-batch") == 0
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 7
    [alert] = alerts()
    assert (alert["account"], alert["region"], alert["event_type"]) == (MEMBER, OREGON, "throttled")


def test_the_arn_form_delivered_elsewhere_names_the_right_place(fleet, alerts, watch):
    fleet.member_role(MEMBER)
    fleet.function(MEMBER, OREGON, "nightly-batch", reserved=5)
    arn = f"arn:aws:lambda:{OREGON}:{MEMBER}:function:nightly-batch"
    central_backup_copy = delivered(
        notice(affected=MEMBER, region=OREGON, entity=arn), account=ACCOUNT, region=HOME
    )

    [result] = watch(central_backup_copy)

    assert (result["account"], result["region"], result["result"]) == (MEMBER, OREGON, "throttled")
    assert [a["event_type"] for a in alerts()] == ["throttled"]


def test_a_copy_without_the_detail_fields_falls_back_to_the_envelope(fleet, watch):
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    event = notice(affected=ACCOUNT, region=OREGON)
    del event["detail"]["affectedAccount"], event["detail"]["eventRegion"]

    [result] = watch(event)

    assert (result["account"], result["region"], result["result"]) == (ACCOUNT, OREGON, "throttled")


def test_a_notice_about_an_unwatched_region_changes_nothing_wherever_it_was_delivered(fleet, alerts, watch):
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    ireland = delivered(notice(affected=ACCOUNT, region="eu-west-1"), region=OREGON)

    [result] = watch(ireland)

    assert (result["region"], result["result"]) == ("eu-west-1", "unverified")
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 7
    [alert] = alerts()
    assert alert["event_type"] == "unverified"
