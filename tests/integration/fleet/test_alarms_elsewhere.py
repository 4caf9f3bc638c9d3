"""An alarm of a member account is checked against that account's own metric, through its role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.fleet import MEMBER
from tests.conftest import ACCOUNT
from tests.events import sample

from .conftest import OREGON, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


def alarm_event(account: str, function: str, at: datetime) -> dict[str, Any]:
    """AWS's sample state change of an alarm on `function`'s dropped recursions, in `account`'s Oregon."""
    event = sample("cloudwatch", "alarm_recursive_invocations_dropped")
    event |= {"account": account, "region": OREGON, "time": f"{at:%Y-%m-%dT%H:%M:%SZ}"}
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {
        "FunctionName": function
    }
    return json.loads(json.dumps(event))


def lambdas_datapoint(fleet: Fleet, account: str, function: str, at: datetime) -> None:
    """What Lambda writes in `account`'s Oregon when it drops recursive invocations of `function`."""
    fleet.account(account, OREGON).client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "RecursiveInvocationsDropped",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": at - timedelta(minutes=2),
                "Value": 9,
            }
        ],
    )


def test_a_members_alarm_acts_on_the_members_datapoints_only(fleet, watch):
    fleet.member_role(MEMBER)
    fleet.function(MEMBER, OREGON, "nightly-batch", reserved=5)
    fleet.function(MEMBER, OREGON, "report-builder", reserved=5)
    fleet.function(ACCOUNT, OREGON, "report-builder", reserved=5)
    at = datetime.now(UTC).replace(microsecond=0)
    lambdas_datapoint(fleet, MEMBER, "nightly-batch", at)
    lambdas_datapoint(
        fleet, ACCOUNT, "report-builder", at
    )  # the central account's namesake, not the member's

    [genuine] = watch(alarm_event(MEMBER, "nightly-batch", at))
    [unborne] = watch(alarm_event(MEMBER, "report-builder", at))

    assert (genuine["account"], genuine["result"]) == (MEMBER, "throttled")
    assert (unborne["account"], unborne["result"]) == (MEMBER, "unverified")
    assert fleet.reservation(MEMBER, OREGON, "report-builder") == 5
    assert fleet.reservation(ACCOUNT, OREGON, "report-builder") == 5
