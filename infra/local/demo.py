"""`make demo`: deploy the guardrail into moto's server and drive the kill switch like an operator.

Steps: start moto on 127.0.0.1; synthesize the app (cdk-nag included); deploy both stacks with
CloudFormation, assets uploaded as `cdk deploy` does; create sample functions; subscribe a queue
to the alert topic; run `guardrail throttle / status / restore` through the deployed kill switch's
real handler; check that every reservation came back exactly; print what an operator would see.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3

from app import build_app, cdk_json_context
from guardrail import cli
from infra.local.deploy import deploy
from infra.local.lambda_bridge import LambdaBridge
from infra.local.moto_server import ACCOUNT, moto_server

REGION = "us-east-1"
SAMPLES: dict[str, dict[str, Any]] = {
    "nightly-batch": {"reserved": 7, "tags": {}},
    "report-builder": {"reserved": None, "tags": {}},
    "payments-api": {"reserved": None, "tags": {"guardrail:exempt": "true"}},
}


class Narrator:
    """Prints timed steps."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def step(self, text: str) -> None:
        """Print one step with the time since the demo started."""
        print(f"[{time.monotonic() - self.start:5.1f}s] {text}", flush=True)


def stand_in_layer(session: boto3.session.Session) -> str:
    """Publish a stand-in for the managed Powertools layer, which moto's account cannot see."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "python/README.txt", "Stands in for AWSLambdaPowertoolsPythonV3 on the local stand-in.\n"
        )
    response = session.client("lambda").publish_layer_version(
        LayerName="powertools-stand-in",
        Content={"ZipFile": buffer.getvalue()},
        CompatibleRuntimes=["python3.13"],
    )
    return str(response["LayerVersionArn"])


def synthesize(outdir: Path, layer_arn: str) -> tuple[str, str]:
    """Synthesize the app from cdk.json, pointing the functions at the stand-in layer."""
    context = cdk_json_context()
    context["guardrail"] = {**context["guardrail"], "powertoolsLayerArn": layer_arn}
    app = cdk.App(outdir=str(outdir), context=context)
    state, service = build_app(app)
    app.synth()
    return state.stack_name, service.stack_name


def create_samples(session: boto3.session.Session) -> None:
    """Create the sample functions the operator will act on."""
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    role = iam.create_role(RoleName="demo-sample-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    client = session.client("lambda")
    for name, sample in SAMPLES.items():
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
            Tags=sample["tags"],
        )
        if sample["reserved"] is not None:
            client.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=sample["reserved"]
            )


def subscribe_inbox(session: boto3.session.Session, topic_arn: str) -> str:
    """Subscribe a queue to the alert topic, as a machine subscriber would be."""
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="demo-alert-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def reservations(session: boto3.session.Session) -> dict[str, int | None]:
    """Each sample function's reserved concurrency right now."""
    client = session.client("lambda")
    return {
        name: client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        for name in SAMPLES
    }


def operator(session: boto3.session.Session, endpoint: str, *args: str) -> int:
    """Run the `guardrail` console command as an operator would, echoing it."""
    argv = ["--endpoint-url", endpoint, "--region", REGION, *args]
    print(f"\n$ guardrail {' '.join(args)}")
    output = io.StringIO()
    with redirect_stdout(output):
        code = cli.main(argv, session=session)
    print("\n".join(f"  {line}" for line in output.getvalue().splitlines()))
    return code


def drain(session: boto3.session.Session, url: str) -> list[dict[str, Any]]:
    """Every alert that reached the queue."""
    sqs = session.client("sqs")
    alerts = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            alerts.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def run(endpoint: str, workdir: Path, narrator: Narrator) -> list[str]:
    """Deploy and drive the guardrail against `endpoint`; return the problems found (none is success)."""
    session = boto3.session.Session(region_name=REGION)
    layer = stand_in_layer(session)
    state, service = synthesize(workdir / "cdk.out", layer)
    narrator.step(f"synthesized {state} and {service}; cdk-nag AwsSolutions passed")
    outputs = deploy(session, workdir / "cdk.out", [state, service], ACCOUNT, REGION)
    narrator.step("deployed with CloudFormation (assets uploaded as cdk deploy does):")
    for name, values in outputs.items():
        for key, value in values.items():
            print(f"         {name}.{key} = {value}")
    create_samples(session)
    inbox = subscribe_inbox(session, outputs[state]["AlertTopicArn"])
    before = reservations(session)
    narrator.step(f"sample functions and their reservations: {before}")
    logs = (workdir / "kill-switch.log").open("w")  # what CloudWatch Logs would hold
    LambdaBridge(session, logs=logs).attach()

    problems = []
    code = operator(session, endpoint, "throttle", *SAMPLES, "--reason", "demo: runaway recursion suspected")
    throttled = reservations(session)
    operator(session, endpoint, "status")
    operator(session, endpoint, "restore", "--all")
    after = reservations(session)
    alerts = drain(session, inbox)
    print()
    narrator.step(
        f"{len(alerts)} alerts reached the subscribed queue; the first, as an e-mail reader sees it:"
    )
    if alerts:
        print(f"    Subject: {alerts[0]['Subject']}")
        document = json.loads(alerts[0]["Message"])
        print("\n".join(f"    | {line}" for line in document["text"].splitlines()))
    logs.close()
    log_lines = (workdir / "kill-switch.log").read_text().splitlines()
    narrator.step(f"the kill switch wrote {len(log_lines)} structured log lines (CloudWatch Logs in AWS)")
    if code != cli.EXIT_OK:
        problems.append(f"throttle exited {code}")
    if throttled != {"nightly-batch": 0, "report-builder": 0, "payments-api": None}:
        problems.append(f"unexpected reservations while throttled: {throttled}")
    if after != before:
        problems.append(f"restore did not put back {before}: {after}")
    if len(alerts) != 4:
        problems.append(f"expected 4 alerts (2 throttles, 2 restores), got {len(alerts)}")
    print("\nReport")
    print(f"  before:    {before}")
    print(f"  throttled: {throttled}  (payments-api is tagged guardrail:exempt)")
    print(f"  restored:  {after}  {'= before, exactly' if after == before else '!= before'}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `make demo`."""
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--keep", type=Path, help="keep the synthesized app in this folder")
    args = parser.parse_args(argv)
    narrator = Narrator()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": REGION}
    )
    os.environ.pop("AWS_PROFILE", None)
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as scratch:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        narrator.step(f"moto server (the local AWS stand-in) is up at {endpoint}")
        problems = run(endpoint, args.keep or Path(scratch), narrator)
    narrator.step("moto server stopped")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("demo passed" if not problems else "demo FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
