"""Alerts that change nothing are bounded per detector and hour, whatever names the signals carry.

Through the recursion watch's handler on moto: refusals as any principal allowed PutEvents on the
signal bus can write them, each naming an invented function of an account the guardrail does not
watch (an unverified finding each). Before, the hourly limit was per function name: 400 events gave
400 alerts. 60 events show the same here at a fraction of the cost (each is a handler run on moto).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from guardrail.enforcement.noise import NOTICES_PER_HOUR
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from tests.conftest import ACCOUNT, REGION

pytestmark = pytest.mark.slow  # sixty findings, each through the watch

FORGED = 60


def refusal(function: str) -> dict[str, Any]:
    """A `Recursion Depth Exceeded` event naming `function`, as the signal bus delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": ACCOUNT,
        "time": "2026-11-28T02:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"function": function, "depth": 17, "limit": 16, "chain_id": uuid.uuid4().hex},
    }


def test_sixty_invented_functions_give_the_bound_and_one_summary(deployed, watch):
    names = [f"arn:aws:lambda:{REGION}:999999999999:function:invented-{i}" for i in range(FORGED)]

    results = [r for name in names for r in watch(refusal(name))["results"]]

    assert [r["result"] for r in results] == ["unverified"] * FORGED
    alerts = deployed.alerts()
    assert len(alerts) == NOTICES_PER_HOUR + 1
    summary = alerts[-1]["Document"]
    assert summary["event_type"] == "unverified"
    assert f"{NOTICES_PER_HOUR} alerts that change nothing were sent this hour" in alerts[-1]["Message"]
    assert sum(r["alert_sent"] for r in results) == NOTICES_PER_HOUR + 1
