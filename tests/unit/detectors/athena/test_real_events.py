"""The Athena watch's parser on real AWS sample events (tests/events, sources in each SOURCES.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guardrail.detectors.athena.query_events import (
    Ignored,
    MalformedEvent,
    QueryFinished,
    QueryStarted,
    parse_event,
)
from tests.events import load, via_eventbridge


def test_the_documentations_state_change_is_a_finished_query():
    finished = parse_event(load("athena/query-state-change-succeeded.json"), account="123456789012")

    assert finished == QueryFinished(
        event_id="abcdef00-1234-5678-9abc-def012345678",
        query_id="01234567-0123-0123-0123-012345678901",
        at=datetime(2019, 10, 6, 9, 30, 10, tzinfo=UTC),
        region="us-east-1",
        workgroup="primary",
        state="SUCCEEDED",
        account="123456789012",
    )


def test_a_running_state_of_the_same_event_is_ignored():
    event = load("athena/query-state-change-succeeded.json")
    event["detail"] = {**event["detail"], "currentState": "RUNNING", "previousState": "QUEUED"}
    assert isinstance(parse_event(event), Ignored)


def test_the_documentations_start_by_an_iam_user_names_the_user_and_reads_the_2017_query_field():
    started = parse_event(via_eventbridge(load("cloudtrail/athena-start-query-execution-iam-user.json")))

    assert isinstance(started, QueryStarted)
    assert (started.query_id, started.workgroup, started.region) == (
        "b621c254-74e0-48e3-9630-78ed857782f9",
        "primary",
        "us-east-1",
    )
    assert (started.caller.arn, started.caller.identity_type, started.caller.function) == (
        "arn:aws:iam::123456789012:user/johndoe",
        "IAMUser",
        None,
    )
    assert started.at == datetime(2017, 5, 4, 0, 23, 55, tzinfo=UTC)
    assert started.query == "Select 10"  # the record says `query`, today's say `queryString`


def test_a_start_by_a_lambda_functions_session_is_a_candidate_under_its_role():
    started = parse_event(via_eventbridge(load("cloudtrail/athena-start-query-execution-assumed-role.json")))

    assert isinstance(started, QueryStarted)
    assert started.caller.function == "example-user"  # the session's name, confirmed by enforcement
    assert started.caller.arn == "arn:aws:iam::123456789012:role/example-role"
    assert (started.workgroup, started.database, started.catalog) == ("Panther", "1111", "AwsDataCatalog")
    assert started.query.startswith("-- Query 2 different time windows")
    assert (started.at, started.account) == (datetime(2021, 10, 19, 4, 50, 27, tzinfo=UTC), "123456789012")


@pytest.mark.parametrize(
    ("sample", "why"),
    [
        ("cloudtrail/athena-start-query-execution-failed.json", "failed (InvalidRequestException)"),
        ("cloudtrail/athena-create-named-query.json", "CreateNamedQuery is not watched"),
    ],
)
def test_calls_that_start_no_query_are_ignored(sample, why):
    ignored = parse_event(via_eventbridge(load(sample)))
    assert isinstance(ignored, Ignored)
    assert why in ignored.why


@pytest.mark.parametrize(
    ("sample", "problem"),
    [
        ("eventbridge/powertools-eventBridgeEvent.json", "unexpected detail-type"),
        ("eventbridge/powertools-scheduled-event.json", "unexpected detail-type"),
        ("eventbridge/powertools-cloudtrail-s3-head-object.json", "source 'aws.s3' is not aws.athena"),
    ],
)
def test_other_services_events_are_refused_with_the_reason(sample, problem):
    with pytest.raises(MalformedEvent, match=problem):
        parse_event(load(sample))


def test_an_event_of_another_account_is_refused():
    with pytest.raises(MalformedEvent, match="from account '123456789012'"):
        parse_event(load("athena/query-state-change-succeeded.json"), account="210987654321")
