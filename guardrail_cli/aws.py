"""The `guardrail` command's AWS side: the session, the kill switch it invokes, and AWS's errors as one line.

The region and profile are found as the AWS CLI finds them: `--region`, then `AWS_REGION`, then
`AWS_DEFAULT_REGION` and the profile's region (boto3's own order); `--profile`, then `AWS_PROFILE`.
Every failure becomes a `CliError`: one line saying what is wrong and what to do next, and its exit code.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from guardrail_cli.grammar import DEFAULT_STACK, EXIT_AWS_SETUP, EXIT_UNREACHABLE

#: The kill switch's Lambda timeout (runaway_guardrail_cdk/guardrail.py; a test keeps the two equal).
KILL_SWITCH_TIMEOUT_SECONDS = 600
#: Wait longer than the kill switch may run, and only once: a retried panic is a second panic.
LAMBDA_CLIENT_CONFIG = Config(
    connect_timeout=10,
    read_timeout=KILL_SWITCH_TIMEOUT_SECONDS + 60,
    retries={"total_max_attempts": 1, "mode": "standard"},
    tcp_keepalive=True,
)
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
}
_NEEDS = {
    "DescribeStacks": "cloudformation:DescribeStacks on the stack (or pass --function-name)",
    "Invoke": "lambda:InvokeFunction on the kill switch",
    "GetCallerIdentity": "sts:GetCallerIdentity",
}


class CliError(Exception):
    """A failure of the command, one line with what to do next, and the exit code it maps to."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class KillSwitch:
    """The kill switch the command invokes: its function (name or ARN) and region."""

    function: str
    region: str


def session_for(args: argparse.Namespace) -> boto3.session.Session:
    """A boto3 session with the command's region and profile, found as the AWS CLI finds them."""
    region = args.region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.session.Session(region_name=region, profile_name=args.profile)
    except ProfileNotFound as exc:
        raise CliError(
            f"AWS profile {exc.kwargs.get('profile')!r} not found: run `aws configure list-profiles` to see"
            " yours, or `aws configure --profile NAME` to create it",
            EXIT_AWS_SETUP,
        ) from None
    return session


def kill_switch(session: boto3.session.Session, args: argparse.Namespace) -> KillSwitch:
    """Find the kill switch: `--function-name`, or the stack's KillSwitchFunctionName output."""
    name = args.function_name
    if name and name.startswith("arn:"):
        return KillSwitch(name, name.split(":")[3])
    region = session.region_name
    if not region:
        raise CliError(
            "no AWS region: pass --region, set AWS_REGION, or run `aws configure set region REGION`",
            EXIT_AWS_SETUP,
        )
    with translated(region):
        return KillSwitch(name or _from_stack(session, args, region), region)


def account_of(session: boto3.session.Session, target: KillSwitch, endpoint_url: str | None) -> str:
    """The kill switch's account: from its ARN, or else the caller's own (`sts get-caller-identity`)."""
    if target.function.startswith("arn:"):
        return target.function.split(":")[4]
    with translated(target.region):
        identity = session.client(
            "sts", region_name=target.region, endpoint_url=endpoint_url
        ).get_caller_identity()
    return str(identity["Account"])


def _from_stack(session: boto3.session.Session, args: argparse.Namespace, region: str) -> str:
    stack_name = args.stack or DEFAULT_STACK
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        raise CliError(
            f"stack {stack_name} is not deployed in {region}: pass the --region it is deployed in,"
            " --stack, or --function-name (or deploy it: `make deploy`)",
            EXIT_UNREACHABLE,
        ) from None
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == "KillSwitchFunctionName":
            return str(output["OutputValue"])
    raise CliError(
        f"stack {stack_name} in {region} has no KillSwitchFunctionName output: pass --function-name",
        EXIT_UNREACHABLE,
    )


def caller(session: boto3.session.Session, endpoint_url: str | None) -> str:
    """Who asks, for the record of what a request changes: the caller's ARN, by `sts get-caller-identity`."""
    with translated(session.region_name or "?"):
        return str(session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Arn"])


def invoke(
    session: boto3.session.Session, target: KillSwitch, endpoint_url: str | None, request: dict[str, Any]
) -> dict[str, Any]:
    """Invoke the kill switch once, synchronously, and return its answer."""
    client = session.client(
        "lambda", region_name=target.region, endpoint_url=endpoint_url, config=LAMBDA_CLIENT_CONFIG
    )
    with translated(target.region):
        try:
            response = client.invoke(
                FunctionName=target.function,
                InvocationType="RequestResponse",
                Payload=json.dumps(request).encode(),
            )
        except client.exceptions.ResourceNotFoundException:
            raise CliError(
                f"could not invoke the kill switch: no function {target.function} in {target.region}:"
                " pass the --region it is deployed in, or check --function-name",
                EXIT_UNREACHABLE,
            ) from None
        body = response["Payload"].read()
    if response.get("FunctionError"):
        raise CliError(
            f"the kill switch failed: {body.decode(errors='replace')}: see its log group"
            f" /aws/lambda/{target.function.split(':')[-1]}",
            EXIT_UNREACHABLE,
        )
    answer: dict[str, Any] = json.loads(body)
    return answer


@contextmanager
def translated(region: str) -> Iterator[None]:
    """Turn AWS's and botocore's errors raised inside the block into one-line `CliError`s."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise _one_line(error, region) from None


def _one_line(error: BotoCoreError | ClientError, region: str) -> CliError:
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return CliError(
            "no AWS credentials: run `aws configure` (or `aws sso login`), or set AWS_PROFILE", EXIT_AWS_SETUP
        )
    if isinstance(error, SSOError | TokenRetrievalError):
        return CliError(f"your AWS sign-in has expired ({error}): run `aws sso login`", EXIT_AWS_SETUP)
    if isinstance(error, NoRegionError):
        return CliError("no AWS region: pass --region or set AWS_REGION", EXIT_AWS_SETUP)
    if (
        isinstance(error, ClientError)
        and (code := error.response.get("Error", {}).get("Code", "")) in _DENIED
    ):
        return CliError(
            f"access denied in {region} ({code} on {error.operation_name}): your identity needs"
            f" {_NEEDS.get(error.operation_name, 'permission for this call')}",
            EXIT_AWS_SETUP,
        )
    if isinstance(error, EndpointConnectionError):
        return CliError(
            f"could not reach AWS in {region} ({error}): check the region and your network", EXIT_UNREACHABLE
        )
    return CliError(f"could not invoke the kill switch: {error}", EXIT_UNREACHABLE)
