"""Sessions by account and region: the home's own credentials, a member's through its role, renewed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.fleet import MEMBER
from guardrail.adapters.places import PerPlace, Sessions
from guardrail.errors import AwsCallFailed
from tests.conftest import ACCOUNT, Clock

from .conftest import HOME, OREGON, OTHER_MEMBER, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


def test_home_regions_use_the_guardrails_own_credentials(fleet: Fleet):
    sessions = Sessions(fleet.settings.home, "runaway-guardrail-enforcement", base=fleet.session)
    oregon = sessions.session(ACCOUNT, OREGON)
    assert oregon.region_name == OREGON
    assert oregon.client("sts").get_caller_identity()["Account"] == ACCOUNT
    assert sessions.session("", "") is fleet.session


def test_a_member_is_reached_through_its_role_once_until_the_credentials_near_expiry(fleet: Fleet, clock):
    fleet.member_role(MEMBER)
    sessions = Sessions(fleet.settings.home, "runaway-guardrail-enforcement", base=fleet.session, clock=clock)
    identity = sessions.session(MEMBER, OREGON).client("sts").get_caller_identity()
    assert identity["Account"] == MEMBER
    assert "assumed-role/runaway-guardrail-enforcement/runaway-guardrail" in identity["Arn"]
    first = sessions.session(MEMBER, HOME).get_credentials().access_key
    assert sessions.session(MEMBER, OREGON).get_credentials().access_key == first  # cached
    adapters = PerPlace(sessions, lambda session: session.client("lambda"))
    before = adapters.at(MEMBER, OREGON)
    assert adapters.at(MEMBER, OREGON) is before  # one client while the credentials hold
    clock.advance(minutes=56)  # within 5 minutes of moto's one-hour expiry: assumed again
    assert sessions.session(MEMBER, OREGON).get_credentials().access_key != first
    assert adapters.at(MEMBER, OREGON) is not before  # and a client on the new credentials


def test_a_missing_role_or_an_unwatched_place_fails_that_place_only(fleet: Fleet):
    sessions = Sessions(fleet.settings.home, "runaway-guardrail-enforcement", base=fleet.session)
    with pytest.raises(AwsCallFailed, match=rf"MemberRoleUnavailable.*account {OTHER_MEMBER}: cannot assume"):
        sessions.session(OTHER_MEMBER, OREGON)
    with pytest.raises(AwsCallFailed, match=r"NotWatched.*region eu-west-1 is outside"):
        sessions.session(ACCOUNT, "eu-west-1")
    adapters = PerPlace(sessions, lambda session: session.region_name)
    assert adapters.at(ACCOUNT, OREGON) == OREGON
    assert adapters.at("", "") == HOME


@pytest.fixture
def clock() -> Clock:
    """Now: moto's assumed credentials expire an hour after the real time of the call."""
    return Clock(datetime.now(UTC))
