"""The moto world the handler properties run in: set up once per test function, not per example."""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterator

import pytest

from devtools.deploy import create_bucket
from guardrail.handlers import athena_watch, composition
from tests.conftest import REGION
from tests.properties.harness import DEPLOYED, World, lambda_validates_function_names
from tests.properties.samples import query_execution

#: Low Athena limits, so that valid traffic breaches them and every kind of action runs.
ATHENA_WATCH = {
    "caller": {"maxQueriesPerWindow": 3, "maxQueriesPerDay": 10, "activeHoursUtc": "01:00-05:00"},
    "workgroup": {"maxQueriesPerWindow": 5, "maxQueriesPerDay": 20, "maxCostPerDayUsd": 1.0},
    "crossRegion": "alert",
}


@pytest.fixture(autouse=True)
def _lambda_validates_function_names() -> Iterator[None]:
    with lambda_validates_function_names():
        yield


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class _Utf8Safe(logging.Filter):
    """Escapes lone surrogates in a record's text, so that the logs pytest captures encode as UTF-8."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.encode("utf-8", "backslashreplace").decode("utf-8")
        return True


@pytest.fixture(autouse=True)
def _handler_logs_dropped(monkeypatch) -> Iterator[None]:
    """Format the handlers' logs, as in Lambda, then drop them; keep what pytest captures UTF-8.

    A handler logs each event as it came, so a run logs megabytes of hostile text with lone surrogates
    among it: a pytest-xdist worker cannot send such a report back (an INTERNALERROR ends the worker).
    """
    logger = logging.getLogger("runaway-guardrail")  # the handlers' logger (powertools)
    safe = _Utf8Safe()
    logger.addFilter(safe)
    for name in ("guardrail", "runaway-guardrail"):
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:  # powertools'; not pytest's capture handlers
                monkeypatch.setattr(handler, "stream", _Discard())
    yield
    logger.removeFilter(safe)


@pytest.fixture
def world(deployed, make_function, monkeypatch, moto_patches) -> World:
    """The deployed guardrail, the functions of `DEPLOYED`, and the handlers' environment.

    With the moto patches: the kill switch acts on functions in parallel threads.
    """
    for name, reserved in DEPLOYED.items():
        tags = {"guardrail:exempt": "true"} if name == "tagged-exempt" else None
        make_function(name, reserved=reserved, tags=tags)
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": deployed.settings.region}.items():
        monkeypatch.setenv(name, value)
    # The handlers build their adapters on every call; creating a boto3 client costs ~30 ms, far
    # more than the moto call it makes, so every handler shares the world's clients.
    session = deployed.session
    monkeypatch.setattr(session, "client", functools.cache(session.client))
    monkeypatch.setattr(composition, "session_for", lambda settings: session)
    return World(session=session, table=deployed.settings.ledger_table)


@pytest.fixture
def watched(world, deployed, monkeypatch) -> World:
    """The world, with Glue tables (one over a bucket in Tokyo), Athena's answers, and low limits.

    The handler builds its watch on its first call, from the environment, as in Lambda.
    """
    session = world.session
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    for table, bucket, region in (
        ("orders", "local-orders", REGION),
        ("tokyo_orders", "tokyo-orders", "ap-northeast-1"),
    ):
        create_bucket(session, bucket, region)
        location = {"Location": f"s3://{bucket}/{table}/"}
        glue.create_table(DatabaseName="sales", TableInput={"Name": table, "StorageDescriptor": location})
    session.events.register("before-call.athena.GetQueryExecution", query_execution)
    settings = deployed.configured(detectors={"athena-watch": ATHENA_WATCH})
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(athena_watch, "_watch", None)
    return world
