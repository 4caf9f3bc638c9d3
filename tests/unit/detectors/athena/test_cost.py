"""What Athena bills: DML by bytes scanned (10 MB minimum); failed queries, DDL and UTILITY nothing."""

from __future__ import annotations

import pytest

from guardrail.detectors.athena.cost import GB, MB, billed_by_athena, estimate

PRICES = {"usd_per_tb": 5.0, "transfer_usd_per_gb": 0.09}


def test_a_succeeded_dml_query_is_billed_with_the_10_mb_minimum():
    cost = estimate(0, cross_region=False, state="SUCCEEDED", statement_type="DML", **PRICES)
    assert cost.scan_micros == round(10 * MB * 5.0 * 1_000_000 / 2**40)
    assert cost.total_micros > 0


@pytest.mark.parametrize("scanned", [0, 5 * GB])
def test_a_failed_query_is_not_billed_by_athena(scanned):
    cost = estimate(scanned, cross_region=False, state="FAILED", statement_type="DML", **PRICES)
    assert (cost.scanned_bytes, cost.scan_micros, cost.total_micros) == (scanned, 0, 0)


def test_a_query_cancelled_before_scanning_costs_nothing():
    cost = estimate(0, cross_region=True, state="CANCELLED", statement_type="DML", **PRICES)
    assert cost.total_micros == 0


def test_a_query_cancelled_after_scanning_is_billed_for_what_it_scanned():
    cost = estimate(2**40, cross_region=False, state="CANCELLED", statement_type="DML", **PRICES)
    assert cost.scan_micros == 5_000_000


@pytest.mark.parametrize("statement_type", ["DDL", "UTILITY"])
def test_ddl_and_utility_statements_are_not_billed(statement_type):
    cost = estimate(0, cross_region=True, state="SUCCEEDED", statement_type=statement_type, **PRICES)
    assert cost.total_micros == 0
    assert not billed_by_athena("SUCCEEDED", statement_type, 0)


def test_bytes_a_failed_query_read_across_regions_still_cost_their_transfer():
    """Transfer is S3's charge: the bytes crossed regions whatever became of the query."""
    cost = estimate(100 * GB, cross_region=True, state="FAILED", statement_type="DML", **PRICES)
    assert (cost.scan_micros, cost.transfer_micros) == (0, 9_000_000)
