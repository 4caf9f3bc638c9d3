"""The invocation scan survives arbitrary events: it reads only the schedule's time, and refuses the rest."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import strategies as st

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import invocation_scan
from tests.properties.harness import expect, mix, survives
from tests.properties.samples import SCHEDULE_RULE, schedule
from tests.properties.strategies import (
    envelopes,
    json_values,
    missing_or,
    not_strings,
    not_times,
    one_field_wrong,
)

CONTEXT = lambda_context("runaway-guardrail-invocation-scan")
#: Every instant a timestamp can name, to the microsecond, in UTC (with or without its offset).
instants = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    st.datetimes().map(lambda t: t.isoformat() + "Z"),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999+00:00"]),
)
one_wrong = one_field_wrong(
    st.just(schedule()),
    {
        ("time",): missing_or(not_times),
        ("id",): missing_or(not_strings),
        ("detail",): missing_or(st.just("{}")),
        ("resources",): missing_or(st.just(SCHEDULE_RULE)),
    },
)


def refused(answer: dict[str, Any]) -> None:
    """An event the scan cannot read is answered with an error, not scanned."""
    assert answer["ok"] is False, answer
    assert answer["error"], answer


def test_invocation_scan_survives_any_event(world):
    cases = mix(
        (1, expect("any JSON", json_values)),
        (1, expect("any envelope", envelopes(["aws.events"], ["Scheduled Event"]))),
        (1, expect("schedule at any time", instants.map(schedule))),
        (2, expect("one field wrong", one_wrong, refused)),
    )
    survives(world, invocation_scan.handler, CONTEXT, cases, reaches=frozenset())
    assert not world.results  # no input, a schedule at any instant included, made the scan act on anything
