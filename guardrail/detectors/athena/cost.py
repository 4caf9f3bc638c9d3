"""What Athena queries cost: scanned bytes at a price per TB, and cross-region transfer per GB.

Athena bills a DML query's scanned bytes rounded up to the megabyte, with a 10 MB minimum. It bills
nothing for a query that failed, for DDL (CREATE/ALTER/DROP TABLE, partitions) and UTILITY statements
(SHOW, DESCRIBE), and, for a cancelled query, only the data scanned before it was cancelled: nothing when
that was none. Cross-region transfer is S3's charge, not Athena's: it is estimated on the bytes read
whatever became of the query. Sizes are binary: 1 MB = 2**20 bytes, 1 GB = 2**30, 1 TB = 2**40. Costs
are kept in integer micro-dollars so that DynamoDB counters add them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 2**20
GB = 2**30
TB = 2**40
MIN_BILLED_BYTES = 10 * MB
MICROS_PER_USD = 1_000_000
#: GetQueryExecution's `StatementType`s that Athena does not bill.
FREE_STATEMENTS = frozenset({"DDL", "UTILITY"})


def billed_bytes(scanned: int) -> int:
    """The bytes Athena bills for a query that scanned `scanned` bytes."""
    rounded = -(-max(scanned, 0) // MB) * MB
    return max(rounded, MIN_BILLED_BYTES)


@dataclass(frozen=True)
class QueryCost:
    """One query's scanned bytes and the estimate of what it cost."""

    scanned_bytes: int
    cross_region_bytes: int
    scan_micros: int
    transfer_micros: int

    @property
    def total_micros(self) -> int:
        """Scan plus transfer, in micro-dollars."""
        return self.scan_micros + self.transfer_micros


def billed_by_athena(state: str, statement_type: str, scanned: int) -> bool:
    """Whether Athena bills the query: not DDL/UTILITY, not FAILED, not CANCELLED before it scanned."""
    if statement_type in FREE_STATEMENTS or state == "FAILED":
        return False
    return not (state == "CANCELLED" and scanned <= 0)


def estimate(
    scanned: int,
    *,
    cross_region: bool,
    usd_per_tb: float,
    transfer_usd_per_gb: float,
    state: str = "SUCCEEDED",
    statement_type: str = "DML",
) -> QueryCost:
    """Estimate one query's cost; a cross-region query is assumed to move every byte it scans.

    `state` and `statement_type` are GetQueryExecution's `Status.State` and `StatementType`.
    """
    moved = max(scanned, 0) if cross_region else 0
    billed = billed_bytes(scanned) if billed_by_athena(state, statement_type, scanned) else 0
    return QueryCost(
        scanned_bytes=max(scanned, 0),
        cross_region_bytes=moved,
        scan_micros=round(billed * usd_per_tb * MICROS_PER_USD / TB),
        transfer_micros=round(moved * transfer_usd_per_gb * MICROS_PER_USD / GB),
    )


def usd(micros: int) -> float:
    """Micro-dollars as dollars, rounded to the cent."""
    return round(micros / MICROS_PER_USD, 2)
