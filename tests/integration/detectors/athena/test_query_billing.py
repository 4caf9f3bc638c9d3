"""The billing facts come from GetQueryExecution (moto: StatementType by the statement's first word)."""

from __future__ import annotations

import pytest

from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.detectors.athena.cost import estimate


@pytest.mark.parametrize(
    ("sql", "statement_type", "free"),
    [("CREATE EXTERNAL TABLE logs (line string)", "DDL", True), ("SELECT * FROM logs", "DML", False)],
)
def test_the_statement_type_is_read_and_ddl_costs_nothing(aws, sql, statement_type, free):
    athena = aws.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql, ResultConfiguration={"OutputLocation": "s3://results/"}
    )["QueryExecutionId"]

    facts = AthenaQueries(boto3_session=aws).get(query_id)

    assert facts is not None
    assert (facts.state, facts.statement_type) == ("SUCCEEDED", statement_type)
    cost = estimate(
        facts.scanned_bytes,
        cross_region=False,
        usd_per_tb=5.0,
        transfer_usd_per_gb=0.09,
        state=facts.state,
        statement_type=facts.statement_type,
    )
    assert (cost.total_micros == 0) is free
