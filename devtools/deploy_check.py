"""What `make deploy` and `make diff` need, checked before anything runs: credentials and a bootstrap.

`python -m devtools.deploy_check [--region R]` asks STS who the credentials are, then checks that the
account and region are bootstrapped for the CDK: the `CDKToolkit` stack is deployed and the bootstrap
version parameter (`/cdk-bootstrap/<qualifier>/version`) is at least what the synthesized stacks
require. It prints one clear line per problem, with the command that fixes it, and exits 1; 0 when
ready. It changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

#: What the stacks' default synthesizer requires (cdk.out/manifest.json, `requiresBootstrapStackVersion`).
MIN_BOOTSTRAP_VERSION = 6
DEFAULT_QUALIFIER = "hnb659fds"
TOOLKIT_STACK = "CDKToolkit"
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
_READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class Readiness:
    """Who would deploy where, and what stands in the way (empty when ready)."""

    account: str | None
    region: str | None
    problems: list[str]


def qualifier(cdk_json: Path = CDK_JSON) -> str:
    """The app's bootstrap qualifier: cdk.json's `@aws-cdk/core:bootstrapQualifier`, or the default."""
    context = json.loads(cdk_json.read_text()).get("context", {})
    return str(context.get("@aws-cdk/core:bootstrapQualifier", DEFAULT_QUALIFIER))


def check(session: boto3.session.Session, *, bootstrap_qualifier: str = DEFAULT_QUALIFIER) -> Readiness:
    """Check credentials, then the bootstrap of the credentials' account in the session's region."""
    region = session.region_name
    if not region:
        return Readiness(None, None, ["no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or a profile's"])
    try:
        account = str(session.client("sts").get_caller_identity()["Account"])
    except (NoCredentialsError, NoRegionError) as exc:
        return Readiness(
            None, region, [f"no AWS credentials ({exc}): run `aws configure` or set AWS_PROFILE"]
        )
    except (ClientError, BotoCoreError) as exc:
        return Readiness(
            None, region, [f"the AWS credentials do not work ({exc}): renew them (e.g. aws sso login)"]
        )
    fix = f"run `node_modules/.bin/cdk bootstrap aws://{account}/{region}` (once per account and region)"
    where = f"account {account} in {region}"
    try:
        stack = session.client("cloudformation").describe_stacks(StackName=TOOLKIT_STACK)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            return Readiness(account, region, [f"cannot read the {TOOLKIT_STACK} stack ({exc})"])
        return Readiness(account, region, [f"{where} is not bootstrapped for the CDK: {fix}"])
    problems = []
    if stack["StackStatus"] not in _READY:
        problems.append(f"the {TOOLKIT_STACK} stack of {where} is {stack['StackStatus']}: fix it, then {fix}")
    version = _bootstrap_version(session, bootstrap_qualifier)
    if version is None:
        problems.append(
            f"{where} has no bootstrap for qualifier {bootstrap_qualifier!r}"
            f" (/cdk-bootstrap/{bootstrap_qualifier}/version): {fix}"
        )
    elif version < MIN_BOOTSTRAP_VERSION:
        problems.append(
            f"{where} is bootstrapped at version {version}, the stacks need {MIN_BOOTSTRAP_VERSION}: {fix}"
        )
    return Readiness(account, region, problems)


def _bootstrap_version(session: boto3.session.Session, bootstrap_qualifier: str) -> int | None:
    name = f"/cdk-bootstrap/{bootstrap_qualifier}/version"
    try:
        value = session.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError:
        return None
    return int(value) if value.isdigit() else None


def main(argv: list[str] | None = None, *, session: boto3.session.Session | None = None) -> int:
    """Print what is ready or what is missing; exit 0 when ready, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="deploy_check", description=__doc__.splitlines()[0])
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--profile", help="AWS profile")
    args = parser.parse_args(argv)
    try:
        session = session or boto3.session.Session(region_name=args.region, profile_name=args.profile)
    except BotoCoreError as exc:  # e.g. a profile that does not exist
        print(f"deploy prerequisites: {exc}", file=sys.stderr)
        return 1
    readiness = check(session, bootstrap_qualifier=qualifier())
    if readiness.problems:
        for problem in readiness.problems:
            print(f"deploy prerequisites: {problem}", file=sys.stderr)
        print("nothing was deployed (see docs/deploy.md)", file=sys.stderr)
        return 1
    print(f"deploy prerequisites: account {readiness.account} in {readiness.region}, bootstrapped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
