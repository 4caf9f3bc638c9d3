"""What the Athena watch knows of queries and their booking, apart from where it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.events import Caller
from guardrail.errors import GuardrailError


@dataclass(frozen=True)
class QueryFacts:
    """What GetQueryExecution says about a finished query."""

    query_id: str
    state: str
    scanned_bytes: int
    workgroup: str
    query: str
    database: str
    catalog: str
    statement_type: str = "DML"  # DDL, DML or UTILITY (SHOW, DESCRIBE)


class CountingContention(GuardrailError):
    """The query's record kept changing under us; the delivery should be retried."""


class ActionsFailed(GuardrailError):
    """An action the event's decision called for failed (and was not recorded); retry the delivery."""


@dataclass(frozen=True)
class Booking:
    """Whether a finished query was booked now (False: a duplicate), and the caller it was booked to."""

    counted: bool
    caller: Caller | None


@dataclass(frozen=True)
class Spend:
    """A query's finish half: when it finished, what it cost, and the other regions it read from."""

    at: datetime
    cost: QueryCost
    remote_regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QueryRecord:
    """What the table knows of one query: its start half (caller), its finish half (spend), or both.

    `decided` names the halves whose decision (windows read, actions applied) was carried out.
    `claimed`: the start half was booked from the recursion guard's claim, and CloudTrail has not yet
    booked a record of the query that names another caller.
    """

    caller: Caller | None = None
    started_at: datetime | None = None
    spend: Spend | None = None
    decided: frozenset[str] = frozenset()  # the halves (`start`, `finish`) whose decision was carried out
    claimed: bool = False

    @property
    def started(self) -> bool:
        """Whether the start half (CloudTrail's StartQueryExecution) is booked."""
        return self.caller is not None

    @property
    def finished_at(self) -> datetime | None:
        """When the query finished, once its finish half (the state change) is booked."""
        return None if self.spend is None else self.spend.at


@dataclass(frozen=True)
class Report:
    """What one event led to: `counted`, `duplicate`, `retried`, `ignored`, `unknown-query`, `unverified`.

    `retried`: an earlier delivery booked the event but failed before its decision was carried out;
    the decision is made now.
    """

    status: str
    query_id: str = ""
    detail: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)


def placed(name: str, away: tuple[str, str] | None) -> str:
    """A caller's key or a workgroup as counters name it: as ever at home (None), else `name@acct:region`."""
    return name if away is None else f"{name}@{away[0]}:{away[1]}"


def caller_scope(caller_key: str) -> str:
    """The partition key of a caller's counters."""
    return f"ATHENA#CALLER#{caller_key}"


def workgroup_scope(workgroup: str) -> str:
    """The partition key of a workgroup's counters."""
    return f"ATHENA#WORKGROUP#{workgroup}"
