"""`make bench` section: events a second through the central path of an organization on the stand-in.

`devtools.fleet` deploys the organization into moto in-process; the bench then puts the incident
batch's CloudTrail `StartQueryExecution` events, as a member account in us-west-2 would send them
(the bulk of what members forward), on that account's default bus: each travels by the deployed
forwarding rule to the central bus and is booked and decided by the deployed Athena watch. Then as
many AWS Health loop notices, each naming a function of the member, are acted on through its role.
The figure is moto's, on this machine: a floor for AWS, where the path is the same code without moto.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from moto import mock_aws

from devtools import moto_patches
from devtools.fleet import MEMBER, OREGON, FleetDeployment, deploy_fleet
from devtools.incident import create_function
from devtools.replay import IncidentReplay

EVENTS = 300
NOTICES = 20


def _health(index: int) -> dict[str, Any]:
    return {
        "id": f"health-{index}",
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "account": MEMBER,
        "region": OREGON,
        "time": "2026-11-28T02:00:00Z",
        "detail": {
            "service": "LAMBDA",
            "eventTypeCode": "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION",
            "eventArn": f"arn:aws:health:{OREGON}::event/LAMBDA/{index}",
            "affectedEntities": [{"entityValue": f"loop-{index}"}],
        },
    }


def _timed(fleet: FleetDeployment, events: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """Seconds to deliver every event through the central path, and the results it gave."""
    results: list[str] = []
    started = time.perf_counter()
    for event in events:
        for delivery in fleet.put(MEMBER, OREGON, event):
            if delivery.error:
                raise RuntimeError(f"{delivery.rule}: {delivery.error}")
            answer = delivery.result or {}
            results.append(str(answer.get("status", "")))
            results += [str(r.get("result")) for r in answer.get("results", [])]
    return time.perf_counter() - started, [r for r in results if r]


def run(events: int = EVENTS, notices: int = NOTICES) -> dict[str, Any]:
    """Deploy the organization, time the central path; events a second and what they led to."""
    replay = IncidentReplay(account=MEMBER, athena_region=OREGON, batch_queries=events, loop_minutes=0)
    starts = [replay.start_event(query) for query in replay.night_queries()[:events]]
    with mock_aws(), moto_patches.patched(), tempfile.TemporaryDirectory() as workdir:
        fleet = deploy_fleet(Path(workdir))
        try:
            session = fleet.accounts.session(MEMBER, OREGON)
            for index in range(notices):
                create_function(session, f"loop-{index}", role="app")
            athena_seconds, athena = _timed(fleet, starts)
            health_seconds, health = _timed(fleet, [_health(index) for index in range(notices)])
        finally:
            fleet.lambdas.detach()
    return {
        "athena_events": len(starts),
        "athena_seconds": round(athena_seconds, 2),
        "athena_per_second": round(len(starts) / athena_seconds, 1),
        "athena_results": {name: athena.count(name) for name in sorted(set(athena))},
        "health_notices": notices,
        "health_seconds": round(health_seconds, 2),
        "health_per_second": round(notices / health_seconds, 1),
        "health_results": {name: health.count(name) for name in sorted(set(health))},
    }


def markdown(result: dict[str, Any]) -> list[str]:
    """The section of docs/bench.md."""
    return [
        "",
        "## The central path of an organization (stand-in)",
        "",
        "An organization deployed into moto in-process (`devtools/fleet.py`: home ap-northeast-1,",
        "us-west-2 watched, two member accounts with the member template); events put on a member's",
        "us-west-2 default bus travel by the deployed forwarding rule to the central bus and run the",
        "deployed handler. moto's figure on this machine, a floor for AWS (same code, no moto).",
        "",
        "| events | count | seconds | a second | results |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| CloudTrail `StartQueryExecution` (Athena watch) | {result['athena_events']} | "
        f"{result['athena_seconds']} | {result['athena_per_second']} | {_counts(result['athena_results'])} |",
        f"| AWS Health loop notices (recursion watch, member role) | {result['health_notices']} | "
        f"{result['health_seconds']} | {result['health_per_second']} | {_counts(result['health_results'])} |",
        "",
        "The recursion watch builds its clients, and assumes the member's role, on every invocation (the",
        "Athena watch keeps its own per container): that, not the path, is what a notice costs here. After",
        "five automatic throttles in a rolling hour in one account and region the circuit breaker turns the",
        "rest there into `would-throttle`.",
    ]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "-"
