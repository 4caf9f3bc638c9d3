"""The normalised statement fingerprint: literals, comments, case and spacing do not change it."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from guardrail.detectors.athena.sql import LENGTH, fingerprint, normalised

BASE = "SELECT c.region, sum(o.amount) FROM sales.orders o JOIN sales.customers c ON o.id = c.id"


def test_literals_comments_case_and_space_are_stripped():
    a = f"{BASE} WHERE o.shard = 7 AND o.day = '2026-11-28'"
    b = f"/* guardrail: function=f chain=c */ {BASE.lower()}\n  WHERE o.shard=8 -- retry\n AND o.day='x'"
    assert fingerprint(a) == fingerprint(b)
    assert normalised(a).endswith("where o.shard=? and o.day=?")


def test_a_different_statement_is_a_different_fingerprint():
    assert fingerprint(f"{BASE} GROUP BY c.region") != fingerprint(f"{BASE} GROUP BY c.country")
    assert fingerprint("SELECT * FROM t1") != fingerprint("SELECT * FROM t2")


def test_digits_inside_names_are_kept_and_lists_collapse():
    assert normalised("select col2 from t_9") == "select col2 from t_9"
    assert normalised("select 1 where x in (1, 2, 3)") == normalised("select 5 where x in (4)")


def test_unterminated_literals_and_comments_do_not_break_it():
    assert normalised("select 'open") == "select ?"
    assert normalised("select 1 /* open") == "select ?"


def test_the_fingerprint_is_a_short_hex_hash():
    value = fingerprint(BASE)
    assert len(value) == LENGTH and set(value) <= set(string.hexdigits.lower())


@given(
    number=st.integers(min_value=0, max_value=10**12),
    word=st.text(alphabet=string.ascii_letters + " ", max_size=20),
    spaces=st.sampled_from([" ", "  ", "\n", "\t "]),
    comment=st.text(alphabet=string.ascii_letters + " ", max_size=20),
)
def test_literal_values_and_layout_never_change_the_fingerprint(number, word, spaces, comment):
    original = "SELECT a, b FROM t WHERE a = 1 AND b = 'x'"
    variant = f"/*{comment}*/select{spaces}A,B from T where a={number}{spaces}and b='{word}'"
    assert fingerprint(variant) == fingerprint(original)


@given(st.text(max_size=300))
def test_any_text_has_a_fingerprint(sql):
    assert len(fingerprint(sql)) == LENGTH
