"""Acceptance: an AWS Health event of the real shape throttles the function through the deployed rule.

The synthesized stacks are deployed into moto's CloudFormation; the bridge routes each event by the
deployed rules' own patterns to the deployed handlers (a wrong pattern misses, as it would in AWS).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from devtools.stand_in import Deployment, deploy_guardrail
from tests.unit.detectors.recursion_events import health_event

pytestmark = pytest.mark.infra
CODE = "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION"


@pytest.fixture
def guardrail(aws, tmp_path, make_function) -> Iterator[Deployment]:
    make_function("nightly-batch", reserved=7)
    _, deployment = deploy_guardrail(aws, tmp_path, {}, io.StringIO())
    yield deployment
    deployment.lambdas.detach()


def documents(deployment: Deployment) -> list[dict]:
    """The JSON documents of the alerts sent since the last call."""
    return [json.loads(envelope["Message"]) for envelope in deployment.alerts()]


def reservation(deployment: Deployment) -> int | None:
    response = deployment.session.client("lambda").get_function_concurrency(FunctionName="nightly-batch")
    return response.get("ReservedConcurrentExecutions")


def test_a_health_runaway_termination_event_throttles_the_function_it_names(guardrail):
    # another event type misses the rule; the same event from another account changes nothing
    assert guardrail.bus.put(health_event("AWS_LAMBDA_OPERATIONAL_ISSUE")) == []
    [foreign] = guardrail.bus.put(health_event(account="999999999999"))
    assert foreign.error is None, foreign.error
    assert "throttled" not in json.dumps(foreign.result)
    assert reservation(guardrail) == 7
    assert "throttled" not in [d["event_type"] for d in documents(guardrail)]

    [delivery] = guardrail.bus.put(health_event())

    assert delivery.error is None, delivery.error
    assert "HealthRecursiveLoops" in delivery.rule
    assert [r["result"] for r in delivery.result["results"]] == ["throttled"]
    assert reservation(guardrail) == 0
    [document] = documents(guardrail)
    assert (document["event_type"], document["function"]) == ("throttled", "nightly-batch")
    assert document["detector"] == "aws-recursive-loop"
    assert document["evidence"]["event_type_code"] == CODE
