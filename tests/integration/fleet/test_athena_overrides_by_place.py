"""The Athena watch's per-caller overrides name a place, as exemptions do.

A bare function name in `callers` is the home account's function; another account's is named by its
ARN. Before, a member's function named after an overridden one got the override (a generous one let
its loop run on). Shown with a strict override (5 queries a window): whoever it applies to is
throttled far sooner than anyone held to the default 60. The incident's loop, through the
watch built as the handler builds it (tests/integration/fleet/test_athena_elsewhere.py).
"""

from __future__ import annotations

import pytest

from devtools.fleet import MEMBER
from devtools.incident import QueryStatistics, build_world
from devtools.replay import SIGNALS
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.config import GuardrailConfig
from guardrail.handlers.composition import build_watch
from tests.conftest import ACCOUNT

from .conftest import OREGON, OREGON_LOOP, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test

MEMBERS_ARN = f"arn:aws:lambda:{OREGON}:{MEMBER}:function:nightly-batch"
#: Bookings (starts and finishes) the watch counts before the default limit of 60 a window throttles
#: this replay's loop (measured: 132; with the override of 5, 25).
DEFAULT_THROTTLED_AT = 132


def counted_before_throttle(fleet: Fleet, account: str, override: str) -> int:
    """The queries the watch counted before it throttled the loop of `account`'s nightly-batch."""
    detectors = {"athena-watch": {"callers": {override: {"maxQueriesPerWindow": 5}}}}
    config = GuardrailConfig.model_validate(
        {**fleet.settings.config.model_dump(by_alias=True), "detectors": detectors}
    )
    settings = fleet.settings.model_copy(update={"config": config})
    scenario = OREGON_LOOP.model_copy(update={"account": account, "member_accounts": (MEMBER,)})
    build_world(fleet.account(account, OREGON), scenario)
    if account == MEMBER:
        fleet.member_role(MEMBER)
    watch = build_watch(
        settings, session=fleet.session, queries=AthenaQueries(boto3_client=QueryStatistics(scenario.replay))
    )
    counted = 0
    for delivery in scenario.replay.deliveries():
        if delivery.bus == SIGNALS:
            continue
        report = watch.handle(delivery.event)
        counted += report.status == "counted"
        if any(a["result"] == "throttled" for a in report.actions):
            return counted
    raise AssertionError(f"no throttle after {counted} queries")


@pytest.mark.parametrize(
    ("account", "override", "strict"),
    [
        (ACCOUNT, "nightly-batch", True),  # the home account's function, by name
        (MEMBER, "nightly-batch", False),  # a member's namesake: the defaults
        (MEMBER, MEMBERS_ARN, True),  # the member's function, by its ARN
        (ACCOUNT, MEMBERS_ARN, False),  # the ARN names the member's, not the home account's
    ],
    ids=["home-by-name", "member-namesake", "member-by-arn", "home-not-by-members-arn"],
)
def test_an_override_holds_where_it_names(fleet: Fleet, account, override, strict):
    counted = counted_before_throttle(fleet, account, override)
    assert (counted < DEFAULT_THROTTLED_AT) is strict, counted
