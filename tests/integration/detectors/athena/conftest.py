"""Fixtures for the Athena watch against moto: Glue tables and S3 buckets, the handler, a replay."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from devtools.incident import QueryStatistics, store_tables
from devtools.lambda_runtime import lambda_context
from devtools.loops import Stop, learn_nights, run_the_guard, throttled, until_stopped
from devtools.replay import Delivery, IncidentReplay
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.config import AthenaWatchConfig
from guardrail.handlers import athena_watch
from guardrail.handlers.composition import build_watch
from tests.conftest import REGION


@dataclass
class Watched:
    """The deployed guardrail with the Athena watch's handler ready to take events."""

    deployed: Any
    replay: IncidentReplay
    athena: QueryStatistics
    reports: list[dict[str, Any]] = field(default_factory=list)

    def run_the_guard(self, name: str = "nightly-batch") -> None:
        """Tag the function `guardrail:guarded=true`: it runs the guard, so its query starts verify."""
        run_the_guard(self.deployed.session, name)

    def learn_nights(self, config: AthenaWatchConfig | None = None) -> None:
        """Write what the replay's learning nights leave in the table (`devtools.loops.learn_nights`)."""
        table = self.deployed.settings.ledger_table
        learn_nights(self.deployed.session, table, self.replay, config or AthenaWatchConfig())

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        report = athena_watch.handler(event, lambda_context("runaway-guardrail-athena-watch", region=REGION))
        self.reports.append(report)
        return report

    def until_stopped(self) -> Stop:
        """The night delivered on the events' clock until the function is throttled (`devtools.loops`)."""

        def deliver(delivery: Delivery) -> bool:
            self.deployed.clock.now = delivery.deliver_at
            return throttled(self.deliver(delivery.event))

        return until_stopped(self.replay, deliver)


@pytest.fixture
def watch_replay(deployed, make_function, monkeypatch, moto_patches):
    """Build `Watched` for a replay and the athena-watch settings: `watch_replay(replay, detector)`.

    A night's replay writes thousands of transactions: moto's own would copy the table on each.
    """

    def build(replay: IncidentReplay, detector: dict[str, Any]) -> Watched:
        replay = replace(replay, athena_region=REGION)
        # the role the replay's CloudTrail events name as the session's issuer
        make_function(replay.function, reserved=5, role=f"{replay.function}-role")
        store_tables(deployed.session, replay)
        settings = deployed.configured(detectors={"athena-watch": detector})
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_REGION", REGION)
        # moto's GetQueryExecution reports 0 bytes scanned (and a KeyError for an unknown id): the
        # replay answers instead, as Athena would, through the adapter's injected client
        athena = QueryStatistics(replay)
        watch = build_watch(
            settings,
            session=deployed.session,
            clock=deployed.clock,
            queries=AthenaQueries(boto3_client=athena),
        )
        layer = settings.home.layer_arn(settings.config.guard_layer_name)
        monkeypatch.setattr(athena_watch, "_watch", (watch, layer))
        return Watched(deployed=deployed, replay=replay, athena=athena)

    return build
