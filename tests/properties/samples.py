"""Well-formed events and requests of every kind the handlers read, to generate from and to break."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT, REGION

GUARD = ("guardrail", "Recursion Depth Exceeded")
HEALTH = ("aws.health", "AWS Health Event")
ALARM = ("aws.cloudwatch", "CloudWatch Alarm State Change")
HEALTH_CODE = "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION"
STARTED = ("aws.athena", "AWS API Call via CloudTrail")
FINISHED = ("aws.athena", "Athena Query State Change")
SCHEDULE_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/runaway-guardrail-invocation-scan"
#: Query ids Athena knows (GetQueryExecution answers them); any other id is unknown to it.
KNOWN_QUERIES = tuple(f"known-{n}" for n in range(8))


def envelope(source: str, detail_type: str, detail: Any, **fields: Any) -> dict[str, Any]:
    """A well-formed EventBridge event of this account and region (its id follows from its content)."""
    content = json.dumps([source, detail_type, detail, fields], sort_keys=True, default=str)
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_OID, content)),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-28T02:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
        **fields,
    }


def arn(ref: str) -> str:
    """The function's ARN in this account and region (an ARN is kept as it is)."""
    return ref if ref.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ref}"


def refusal(name: str, **detail: Any) -> dict[str, Any]:
    """The recursion guard's `Recursion Depth Exceeded` event for function `name`."""
    body = {"function": name, "depth": 17, "limit": 16, "chain_id": "chain-1", "operation": "lambda:Invoke"}
    return envelope(*GUARD, {**body, "target": name, **detail}, resources=[arn(name)])


def health(name: str, **detail: Any) -> dict[str, Any]:
    """AWS Health's notice that Lambda stopped a recursive loop of function `name`."""
    body = {
        "eventArn": f"arn:aws:health:{REGION}::event/LAMBDA/{HEALTH_CODE}/1",
        "service": "LAMBDA",
        "eventTypeCode": HEALTH_CODE,
        "eventTypeCategory": "issue",
        "affectedEntities": [{"entityValue": arn(name)}],
    }
    return envelope(*HEALTH, {**body, **detail})


def alarm(name: str, **detail: Any) -> dict[str, Any]:
    """A `RecursiveInvocationsDropped` alarm on function `name` going to ALARM."""
    metric = {
        "namespace": "AWS/Lambda",
        "name": "RecursiveInvocationsDropped",
        "dimensions": {"FunctionName": name},
    }
    body = {
        "alarmName": f"dropped-{name}",
        "state": {
            "value": "ALARM",
            "reason": "Threshold Crossed",
            "timestamp": "2026-11-28T02:00:00.000+0000",
        },
        "previousState": {"value": "OK"},
        "configuration": {
            "metrics": [{"id": "m1", "metricStat": {"metric": metric, "period": 60, "stat": "Sum"}}]
        },
    }
    return envelope(*ALARM, {**body, **detail}, resources=[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a"])


def schedule(at: str = "2026-11-28T02:00:00Z") -> dict[str, Any]:
    """The invocation scan's `rate(1 minute)` event."""
    return envelope("aws.events", "Scheduled Event", {}, time=at, resources=[SCHEDULE_RULE])


def started(
    session: str, query_id: str = "known-0", *, at: str = "2026-11-28T02:00:00Z", **request: Any
) -> dict[str, Any]:
    """CloudTrail's StartQueryExecution by the role session `session` (a function's, by its name)."""
    role = f"{session}-role"
    detail = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLEROLEID:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                    "userName": role,
                }
            },
        },
        "eventTime": at,
        "eventSource": "athena.amazonaws.com",
        "eventName": "StartQueryExecution",
        "awsRegion": REGION,
        "requestParameters": {
            "queryString": "SELECT * FROM orders",
            "queryExecutionContext": {"database": "sales"},
            "workGroup": "primary",
            **request,
        },
        "responseElements": {"queryExecutionId": query_id},
        "eventType": "AwsApiCall",
    }
    return envelope(*STARTED, detail, time=at)


def finished(query_id: str = "known-0", *, at: str = "2026-11-28T02:00:30Z", **detail: Any) -> dict[str, Any]:
    """Athena's state change of query `query_id` to SUCCEEDED."""
    body = {
        "currentState": "SUCCEEDED",
        "previousState": "RUNNING",
        "queryExecutionId": query_id,
        "sequenceNumber": "3",
        "statementType": "DML",
        "versionId": "0",
        "workgroupName": "primary",
    }
    return envelope(*FINISHED, {**body, **detail}, time=at)


def query_execution(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """GetQueryExecution as Athena answers it, at botocore's boundary (moto's fails on an unknown id)."""
    query_id = json.loads(params["body"])["QueryExecutionId"]
    if query_id not in KNOWN_QUERIES:
        error = {"Code": "InvalidRequestException", "Message": f"QueryExecution {query_id} was not found"}
        raise ClientError({"Error": error}, "GetQueryExecution")
    execution = {
        "QueryExecutionId": query_id,
        "Query": "SELECT * FROM orders JOIN sales.tokyo_orders USING (id)",
        "QueryExecutionContext": {"Database": "sales", "Catalog": "AwsDataCatalog"},
        "Status": {"State": "SUCCEEDED"},
        "Statistics": {"DataScannedInBytes": 3 * 10**11},
        "WorkGroup": "primary",
    }
    return AWSResponse("local://athena", 200, {}, io.BytesIO()), {"QueryExecution": execution}
