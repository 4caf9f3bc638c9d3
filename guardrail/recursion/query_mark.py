"""Marks on the Athena queries a guarded function starts: `/* guardrail: function=<name> chain=<id> */`.

The mark is a SQL comment in front of the query (as dbt marks its queries), so Athena keeps it in the
query text that `GetQueryExecution` returns, and the Athena watch can name the function behind a query
from its state-change event, before CloudTrail's record of the call arrives. Anyone who can run a query
can write such a comment: the watch treats a mark as a claim (see docs/athena-watch.md, "What a query
mark may trigger"), never as a reason to throttle.

The same client publishes an `Athena Query Started` event on the guardrail's signal bus as soon as
StartQueryExecution returns (`guardrail.recursion.query_started`): the watch verifies the function
behind it and books the query's start then, without waiting for CloudTrail.

Opt in per client:

```python
athena = mark_athena_queries(boto3.client("athena"))
athena.start_query_execution(QueryString="SELECT ...", WorkGroup="primary")  # marked and told, if guarded
```
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

from guardrail.recursion import hooks
from guardrail.recursion.query_started import publish_started

_FUNCTION = r"[A-Za-z0-9_-]{1,64}"
_CHAIN = r"[A-Za-z0-9_-]{1,128}"
_MARK = re.compile(rf"^\s*/\* guardrail: function=({_FUNCTION}) chain=({_CHAIN}) \*/")
_START_QUERY = "before-parameter-build.athena.StartQueryExecution"
_STARTED_QUERY = "after-call.athena.StartQueryExecution"
_REQUEST = "guardrail_query_started"  # where the request's parameters wait for the answer
ClientT = TypeVar("ClientT")


@dataclass(frozen=True)
class QueryMark:
    """What a mark claims: the function that started the query, and its chain."""

    function: str
    chain_id: str


def mark_query(sql: str, mark: QueryMark) -> str:
    """The query with the mark in front; a query that starts with a mark already is left as it is."""
    if read_mark(sql) is not None:
        return sql
    if not (re.fullmatch(_FUNCTION, mark.function) and re.fullmatch(_CHAIN, mark.chain_id)):
        raise ValueError(f"cannot mark a query with {mark!r}: not a function name and a chain id")
    return f"/* guardrail: function={mark.function} chain={mark.chain_id} */ {sql}"


def read_mark(sql: str) -> QueryMark | None:
    """The mark a query starts with, if any (a mark anywhere else in the text is not one)."""
    found = _MARK.match(sql)
    return None if found is None else QueryMark(function=found.group(1), chain_id=found.group(2))


def mark_athena_queries(client: ClientT) -> ClientT:
    """Mark every query this Athena client starts inside a guarded invocation, and tell the watch.

    Returns the client.
    """
    client.meta.events.register(_START_QUERY, _mark_start)  # type: ignore[attr-defined]
    client.meta.events.register(_STARTED_QUERY, _started)  # type: ignore[attr-defined]
    return client


def _mark_start(params: MutableMapping[str, Any], context: MutableMapping[str, Any], **_: Any) -> None:
    invocation = hooks.current()
    if invocation is None or not isinstance(params.get("QueryString"), str):
        return
    mark = QueryMark(function=invocation.function, chain_id=invocation.chain.chain_id)
    with contextlib.suppress(ValueError):  # a chain id that cannot be written in a mark: left unmarked
        params["QueryString"] = mark_query(params["QueryString"], mark)
    context[_REQUEST] = {"QueryString": params["QueryString"], "WorkGroup": params.get("WorkGroup")}


def _started(parsed: Any, context: MutableMapping[str, Any], http_response: Any = None, **_: Any) -> None:
    request = context.get(_REQUEST)
    status = getattr(http_response, "status_code", 200)
    if request is not None and isinstance(parsed, dict) and status < 300 and "Error" not in parsed:
        publish_started(request, parsed)
