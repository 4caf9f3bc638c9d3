"""Generators of hostile input: any JSON, EventBridge envelopes, valid shapes with one field wrong."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.conftest import ACCOUNT, REGION

#: A field removed from the event instead of given a wrong value.
MISSING = object()
Path = tuple[str | int, ...]

#: Strings that have hurt parsers, stores and alert renderers: control characters, terminal escapes,
#: a forged instruction line, a lone surrogate (JSON can carry one), and sizes past every limit that
#: EventBridge (256 KB an event) and DynamoDB keys (2 KB) impose.
NASTY_STRINGS = (
    "",
    " ",
    "\x00",
    "\t\r\n",
    "\x1b[31mALERT\x1b[0m",
    "ok\r\nTo undo, run: guardrail panic --yes",
    "\ud800",
    "名前",
    "a" * 65,
    "x" * 3_000,
    "y" * 100_000,
)
nasty_text = st.one_of(st.text(max_size=40), st.sampled_from(NASTY_STRINGS))
big_integers = st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**64), 10**30, 10**400])
numbers = st.one_of(st.integers(), big_integers, st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, nasty_text)
#: Any JSON value (no NaN or Infinity: Lambda and EventBridge only carry JSON).
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=4)
#: Small containers: enough to be of the wrong type, cheap to generate.
shallow_lists = st.lists(scalars, max_size=3)
shallow_objects = st.dictionaries(st.text(max_size=8), scalars, max_size=3)
#: Values that are neither a string nor a number.
not_scalars = st.one_of(st.none(), shallow_lists, shallow_objects)
#: Values that are not strings.
not_strings = st.one_of(not_scalars, st.booleans(), numbers)
#: Values that no lenient integer parser reads as an integer (pydantic's lax mode reads "5" and true).
not_integers = st.one_of(
    not_scalars,
    st.sampled_from(["", "deep", "1e400", "0x10", "1.5", "NaN"]),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
)
#: Values that are not timestamps (numbers are excluded: pydantic reads them as epoch seconds).
not_times = st.one_of(
    not_scalars,
    st.sampled_from(["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-28T25:00:00Z", "28/11/2026"]),
)
other_accounts = st.one_of(
    st.sampled_from(["999999999999", "", "12345678901", f"{ACCOUNT} ", f"0{ACCOUNT}", "aws"]),
    st.text(max_size=14).filter(lambda s: s != ACCOUNT),
    not_strings,
)


def envelopes(sources: list[str], detail_types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """EventBridge-shaped events: each field valid or any scalar, the detail any JSON value."""

    def field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(valid, scalars)

    known = st.sampled_from([*sources, "aws.events", "aws.ec2", "Guardrail", "guardrail "])
    kinds = st.sampled_from([*detail_types, "Scheduled Event", "Object Created"])
    seconds = st.integers(-(10**10), 10**11)  # from 1653 to 5138
    return st.fixed_dictionaries(
        {
            "version": field(st.just("0")),
            "id": field(st.integers(0, 10**6).map(lambda n: f"{n:08x}-0000-4000-8000-000000000000")),
            "detail-type": field(kinds),
            "source": field(known),
            "account": field(st.just(ACCOUNT)),
            "time": field(
                seconds.map(lambda s: f"{datetime(1970, 1, 1) + timedelta(seconds=s):%Y-%m-%dT%H:%M:%S}Z")
            ),
            "region": field(st.sampled_from([REGION, "us-west-2", "ap-northeast-1"])),
            "resources": field(st.lists(nasty_text, max_size=3)),
            "detail": json_values,
        },
        optional={"replay-name": scalars, "extra": json_values},
    )


def one_field_wrong(
    valid: st.SearchStrategy[dict[str, Any]], wrong: Mapping[Path, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A `valid` event with exactly one of the paths in `wrong` given a wrong value (or `MISSING`)."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        event = copy.deepcopy(draw(valid))
        path = draw(st.sampled_from(list(wrong)))
        value = draw(wrong[path])
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        if value is MISSING:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return event

    return build()


def missing_or(*strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The field removed, or one of `strategies`."""
    return st.one_of(st.just(MISSING), *strategies)


_REF_CHARACTERS = re.compile(r"^[A-Za-z0-9_:$-]+$")
#: Strings that are not a Lambda function name or ARN (whatever surrounding white space is trimmed).
bad_function_refs = st.one_of(
    st.sampled_from(["", "   ", "bad name!", "a" * 65, "nightly-batch\x00", "nightly batch", "*", "../x"]),
    st.sampled_from(NASTY_STRINGS[2:]),
    st.text(min_size=1, max_size=40).filter(lambda s: not _REF_CHARACTERS.match(s.strip())),
)


def envelope_wrongs(source: str, detail_type: str) -> dict[Path, st.SearchStrategy[Any]]:
    """Wrong values for each field of an EventBridge envelope (the detail's own fields apart)."""
    return {
        ("account",): missing_or(other_accounts),
        ("source",): missing_or(
            not_strings, st.sampled_from([source.upper(), f"{source} ", f"x.{source}", "aws.events", ""])
        ),
        ("detail-type",): missing_or(
            not_strings, st.sampled_from([detail_type.lower(), f"{detail_type} ", "Scheduled Event", ""])
        ),
        ("detail",): missing_or(scalars, shallow_lists, st.just({})),
        ("time",): missing_or(not_times),
        ("id",): missing_or(not_strings, st.sampled_from(["", "i" * 129, "i" * 3_000])),
        ("region",): missing_or(not_strings),
        ("version",): missing_or(not_strings),
        ("resources",): missing_or(
            nasty_text, shallow_objects, st.lists(not_strings, min_size=1, max_size=3)
        ),
    }
