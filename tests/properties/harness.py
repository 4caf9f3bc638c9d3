"""What every handler property shares: the moto world, a Lambda context, the snapshot and the check.

The property, for every handler and every generated input:
- the handler returns (no exception escapes it: none is allowed, not even the Athena watch's deliberate
  re-raise of AWS failures, which moto never causes here);
- its answer is a dict that `json.dumps(..., allow_nan=False)` accepts, as Lambda must serialise it;
- no function's reserved concurrency changed, and the ledger holds the same throttle records as before.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.handlers
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.awslambda.models import lambda_backends
from moto.dynamodb.models import dynamodb_backends

from devtools.lambda_runtime import LambdaContext
from guardrail.adapters.ledger.records import RECORD_SK as THROTTLE_SK
from tests.conftest import ACCOUNT, REGION

#: The functions in moto: name -> reserved concurrency (None: no reservation).
DEPLOYED: dict[str, int | None] = {
    "nightly-batch": 7,
    "report-builder": None,
    "tagged-exempt": None,
    "payments-api": 2,
    "runaway-guardrail-kill-switch": None,
}
#: Valid names of functions that do not exist.
GHOSTS = ("ghost-batch", "no-such-function", "all")

Handler = Callable[[Any, Any], Any]
#: The FunctionName that Lambda's API accepts (moto takes any string and answers "not found").
_AWS_FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


def _validate_function_name(params: dict[str, Any], model: Any, **_: Any) -> None:
    name = params.get("FunctionName")
    if name is not None and not (len(name) <= 170 and _AWS_FUNCTION_NAME.fullmatch(name)):
        message = f"Value '{name[:200]}' at 'functionName' failed to satisfy constraint: Member must match"
        raise ClientError({"Error": {"Code": "ValidationException", "Message": message}}, model.name)


@contextmanager
def lambda_validates_function_names() -> Iterator[None]:
    """Make every client created in the block refuse a malformed FunctionName, as Lambda does."""
    entry = ("before-parameter-build.lambda", _validate_function_name)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)


@dataclass
class World:
    """The guardrail's table and topic and the functions of `DEPLOYED`, in moto."""

    session: boto3.session.Session
    table: str
    examples: int = 0
    seconds_in_handler: float = 0.0
    answers: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)  # every result an answer named, counted
    _clients: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """What `snapshot` reads, from moto 5.2's backends directly: per input, no API round trip."""
        functions = lambda_backends[ACCOUNT][REGION]
        table = dynamodb_backends[ACCOUNT][REGION].get_table(self.table)
        records = [
            json.dumps(item.to_json(), sort_keys=True)
            for partition in table.items.values()
            for item in partition.values()
            if item.range_key is not None and item.range_key.value == THROTTLE_SK
        ]
        return {
            "concurrency": {name: functions.get_function(name).reserved_concurrency for name in DEPLOYED},
            "throttle_records": sorted(records),
        }

    def snapshot(self) -> dict[str, Any]:
        """Every function's reserved concurrency, and every throttle record in the ledger, through the API."""
        lam = self._client("lambda")
        concurrency = {
            name: lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
            for name in DEPLOYED
        }
        records = self._client("dynamodb").scan(
            TableName=self.table,
            FilterExpression="sk = :sk",
            ExpressionAttributeValues={":sk": {"S": THROTTLE_SK}},
            ConsistentRead=True,
        )["Items"]
        return {"concurrency": concurrency, "throttle_records": sorted(map(json.dumps, records))}

    def check(self, handler: Handler, context: LambdaContext, event: Any) -> dict[str, Any]:
        """Deliver `event` as Lambda would (JSON in, JSON out); assert the property; return the answer."""
        self.examples += 1
        delivered = json.loads(json.dumps(event))
        before = self.state()
        try:
            started = time.perf_counter()
            answer = handler(delivered, context)
            self.seconds_in_handler += time.perf_counter() - started
            assert isinstance(answer, dict), f"answer is a {type(answer).__name__}, not a JSON object"
            json.dumps(answer, allow_nan=False)
            assert self.state() == before, f"the handler changed a function or the ledger: {answer}"
        except BaseException:
            self.reset()  # each input, shrunk ones included, meets the same world
            raise
        return answer

    def reset(self) -> None:
        """Put every reservation back and empty the ledger (throttle records, audit, signal claims)."""
        lam, dynamodb = self._client("lambda"), self._client("dynamodb")
        for name, reserved in DEPLOYED.items():
            if reserved is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        for item in dynamodb.scan(TableName=self.table, ProjectionExpression="pk, sk")["Items"]:
            dynamodb.delete_item(TableName=self.table, Key=item)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]


AnswerCheck = Callable[[dict[str, Any]], None]


def expect(
    kind: str, inputs: st.SearchStrategy[Any], check: AnswerCheck | None = None
) -> st.SearchStrategy[tuple[str, Any, AnswerCheck | None]]:
    """Inputs of one kind, with what their answer must satisfy beyond the common property."""
    return inputs.map(lambda event: (kind, event, check))


def mix(*cases: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of `cases`, each `(weight, inputs)` picked in proportion to its weight.

    Hypothesis skips an input it has run before, so a kind with few distinct inputs ends with fewer.
    """
    return st.sampled_from([inputs for weight, inputs in cases for _ in range(weight)]).flatmap(
        lambda inputs: inputs
    )


def survives(
    world: World,
    handler: Handler,
    context: LambdaContext,
    cases: st.SearchStrategy[Any],
    *,
    reaches: frozenset[str],
) -> None:
    """Run the property over `cases` (from `expect`), as many as the profile's `max_examples`, in one world.

    The default profile runs 100 inputs per handler; `make test-all` (profile `thorough`) runs 1,000.
    `reaches`: the results the answers must have named between them (`throttled`, `alerted`, ...), so
    that a run whose inputs never get as far as an action fails instead of passing on rejections alone.
    """
    least = settings().max_examples

    @settings(
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=cases)
    def prop(case: tuple[str, Any, AnswerCheck | None]) -> None:
        kind, event, check = case
        answer = world.check(handler, context, event)
        if check is not None:
            check(answer)
        world.answers[f"{kind}: {_summary(answer)}"] += 1
        world.results.update(_results(answer))

    before = world.snapshot()
    started, cpu = time.perf_counter(), time.process_time()
    prop()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"\n{world.examples} inputs in {elapsed:.1f} s, {cpu:.1f} s of CPU"
        f" ({world.seconds_in_handler:.1f} s in the handler); answers:"
    )
    for summary, count in sorted(world.answers.items()):
        print(f"{count:6} {summary}")
    assert world.examples >= least
    assert reaches <= set(world.results), f"results reached: {sorted(world.results)}"
    assert world.snapshot() == before


def _results(answer: dict[str, Any]) -> set[str]:
    """The results an answer names: one per target of a request, or per action of an event."""
    results = answer.get("results") or answer.get("actions") or []
    return {str(r.get("result")) for r in results if isinstance(r, dict)}


def _summary(answer: dict[str, Any]) -> str:
    kinds = sorted(_results(answer))
    return f"ok={answer.get('ok', answer.get('status'))} results={','.join(kinds) or '-'}"
