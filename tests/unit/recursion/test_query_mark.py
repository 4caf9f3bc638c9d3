"""The query mark: written in front of a query, read back only from there, bounded names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrail.detectors.athena.detect import mark_evidence
from guardrail.detectors.athena.query_events import Caller
from guardrail.recursion.query_mark import QueryMark, mark_query, read_mark

MARK = QueryMark(function="nightly-batch", chain_id="c0ffee")


def test_a_marked_query_reads_back_its_mark_and_is_marked_once():
    marked = mark_query("SELECT 1", MARK)
    assert marked == "/* guardrail: function=nightly-batch chain=c0ffee */ SELECT 1"
    assert read_mark(marked) == MARK
    assert mark_query(marked, QueryMark("other", "x")) == marked


def test_only_a_leading_mark_counts():
    assert read_mark("SELECT 1 /* guardrail: function=f chain=c */") is None
    assert read_mark("SELECT '/* guardrail: function=f chain=c */'") is None
    assert read_mark("  \n/* guardrail: function=f chain=c */ SELECT 1") == QueryMark("f", "c")


@pytest.mark.parametrize(
    "mark", [QueryMark("bad name", "c"), QueryMark("f", "*/ DROP"), QueryMark("f" * 65, "c")]
)
def test_names_that_are_not_a_function_and_a_chain_are_refused(mark):
    with pytest.raises(ValueError, match="cannot mark"):
        mark_query("SELECT 1", mark)


@given(st.text(max_size=200))
def test_any_text_is_read_without_error(sql):
    mark = read_mark(sql)
    assert mark is None or mark_query(sql, MARK) == sql


def test_what_a_mark_adds_to_the_evidence():
    marked = mark_query("SELECT 1", MARK)
    assert mark_evidence("SELECT 1", None) == {}
    unverified = mark_evidence(marked, None)["query_mark"]
    assert (unverified["claimed_function"], unverified["verified"]) == ("nightly-batch", False)
    lambda_caller = Caller("arn:aws:iam::1:role/r", "AssumedRole", "nightly-batch")
    assert mark_evidence(marked, lambda_caller)["query_mark"]["verified"] is True
    someone = Caller("arn:aws:iam::1:user/mallory", "IAMUser")
    forged = mark_evidence(marked, someone)["query_mark"]
    assert (forged["verified"], forged["contradicted"], forged["caller"]) == (False, True, someone.arn)
