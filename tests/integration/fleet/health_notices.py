"""AWS Health's notice that Lambda stopped a recursive loop, in any account and region of the fleet, and
what the recursion watch's findings and the enforcer do with it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from guardrail.detectors.recursion_signals import findings_from_event
from tests.conftest import ACCOUNT
from tests.integration.fleet.conftest import HOME, Fleet

LAYER = f"arn:aws:lambda:{HOME}:{ACCOUNT}:layer:runaway-guardrail-recursion-guard"


def health_event(account: str, region: str, *functions: str, event_id: str = "e-1") -> dict[str, Any]:
    """AWS Health's notice that Lambda stopped a recursive loop, as EventBridge delivers it."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "account": account,
        "time": "2026-11-28T02:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "service": "LAMBDA",
            "eventTypeCode": "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION",
            "eventArn": f"arn:aws:health:{region}::event/LAMBDA/{event_id}",
            "affectedEntities": [{"entityValue": name} for name in functions],
        },
    }


def enforce(fleet: Fleet, event: dict[str, Any]) -> list[dict[str, Any]]:
    """What the recursion watch does with one event: findings, then the enforcer."""
    enforcer, _ = fleet.enforcer()
    findings = findings_from_event(event, scope=fleet.settings.home, guard_layer=LAYER)
    return [enforcer.enforce(finding).to_dict() for finding in findings]


EVENTS = Path(__file__).parents[2] / "events" / "health"


def notice(*, affected: str, region: str, entity: str = "nightly-batch", sample: str = "") -> dict[str, Any]:
    """AWS's sample notice about a loop of `entity` in `affected`'s `region`, delivered there."""
    event: dict[str, Any] = json.loads((EVENTS / f"lambda_runaway_termination{sample}.json").read_text())
    event |= {"account": affected, "region": region, "resources": [entity]}
    event["detail"] |= {
        "affectedAccount": affected,
        "eventRegion": region,
        "eventArn": event["detail"]["eventArn"].replace(":us-east-1:", f":{region}:"),
        "affectedEntities": [{"entityValue": entity}],
    }
    return event


def delivered(
    event: dict[str, Any], *, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """A copy of `event` as AWS delivers it elsewhere: a new envelope id, account or region; detail kept."""
    copied = copy.deepcopy(event)
    copied["id"] = f"copy-{account or ''}-{region or ''}"
    copied["account"] = account or event["account"]
    copied["region"] = region or event["region"]
    return copied
