"""The handlers publish the metrics the dashboard reads (EMF lines on stdout), against moto."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from devtools.lambda_runtime import lambda_context
from guardrail.domain import Finding, Result, Target
from guardrail.handlers import invocation_scan, kill_switch
from guardrail.handlers import observability as obs
from tests.conftest import ACCOUNT, REGION


def _metrics(out: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    return [line for line in lines if "_aws" in line]


def _scheduled(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"c8f5f0b8-0000-0000-0000-{at:%H%M%S}000000",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {},
    }


@pytest.fixture
def environment(deployed, monkeypatch):
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    return deployed


def test_kill_switch_counts_each_result_by_detector(environment, make_function, capsys):
    make_function("nightly-batch", reserved=7)
    make_function("report-builder")
    request = {"action": "throttle", "functions": ["nightly-batch", "report-builder", "gone"], "reason": "t"}

    kill_switch.handler(request, lambda_context("runaway-guardrail-kill-switch"))

    actions = {
        (m[obs.DETECTOR_DIMENSION], m[obs.RESULT_DIMENSION]): m[obs.ACTIONS]
        for m in _metrics(capsys.readouterr().out)
    }
    assert actions == {("kill-switch", "throttled"): [2.0], ("kill-switch", "not-found"): [1.0]}


def test_invocation_scan_reports_its_cloudwatch_calls_and_the_functions_held(
    environment, make_function, capsys
):
    make_function("nightly-batch")
    finding = Finding(
        Target.function("nightly-batch"), detector="kill-switch", reason="t", observed_at=environment.clock()
    )
    assert environment.enforcer().enforce(finding).result == Result.THROTTLED
    scheduled = _scheduled(environment.clock() + timedelta(minutes=obs.HELD_EVERY_MINUTES))

    invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))

    [line] = [m for m in _metrics(capsys.readouterr().out) if obs.SCAN_METRICS_QUERIED in m]
    assert line["service"] == obs.INVOCATION_SCAN
    assert line[obs.SCAN_GET_METRIC_DATA_CALLS] == [1.0]  # a quiet account: one account-level call
    assert line[obs.SCAN_METRICS_QUERIED] == [2.0]  # Invocations and RecursiveInvocationsDropped
    assert line[obs.FUNCTIONS_HELD] == [1.0]


def test_invocation_scan_counts_the_functions_held_only_every_few_minutes(environment, capsys):
    scheduled = _scheduled(environment.clock() + timedelta(minutes=1))

    invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))

    [line] = [m for m in _metrics(capsys.readouterr().out) if obs.SCAN_METRICS_QUERIED in m]
    assert obs.FUNCTIONS_HELD not in line
