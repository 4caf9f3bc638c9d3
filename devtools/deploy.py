"""Deploys a synthesized CDK app into moto's server the way `cdk deploy` would.

It stands in for `cdk bootstrap` (the asset bucket and the bootstrap version parameter), uploads
every file asset named in the stacks' asset manifests (directories zipped), and creates each stack
from its template with CloudFormation, in dependency order, waiting for each to complete.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"


class DeployError(RuntimeError):
    """A stack did not reach CREATE_COMPLETE."""


def create_bucket(session: boto3.session.Session, bucket: str, region: str) -> None:
    """Create a bucket in `region` (us-east-1 takes no location constraint)."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    session.client("s3", region_name=region).create_bucket(Bucket=bucket, **location)


def bootstrap(session: boto3.session.Session, account: str, region: str) -> None:
    """Create what `cdk bootstrap` provides and the templates rely on."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    session.client("s3").create_bucket(
        Bucket=f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}", **location
    )
    session.client("ssm").put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
        Value=BOOTSTRAP_VERSION,
        Type="String",
        Overwrite=True,
    )


def _zip_directory(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue()


def upload_assets(session: boto3.session.Session, outdir: Path, stack: str, account: str, region: str) -> int:
    """Upload the stack's file assets where its template expects them; return how many."""
    manifest = json.loads((outdir / f"{stack}.assets.json").read_text())
    s3 = session.client("s3")
    count = 0
    for asset in manifest.get("files", {}).values():
        source = outdir / asset["source"]["path"]
        body = _zip_directory(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = _fill(destination["bucketName"], account, region)
            s3.put_object(Bucket=bucket, Key=_fill(destination["objectKey"], account, region), Body=body)
            count += 1
    return count


def _fill(template: str, account: str, region: str) -> str:
    return template.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)


def create_stack(session: boto3.session.Session, outdir: Path, stack: str) -> dict[str, str]:
    """Create one stack from its synthesized template; return its outputs."""
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=(outdir / f"{stack}.template.json").read_text(),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described: dict[str, Any] = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        raise DeployError(f"{stack}: {described['StackStatus']} {described.get('StackStatusReason', '')}")
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def deploy(
    session: boto3.session.Session, outdir: Path, stacks: Iterable[str], account: str, region: str
) -> dict[str, dict[str, str]]:
    """Bootstrap, upload assets and create `stacks` in the order given; return each one's outputs."""
    bootstrap(session, account, region)
    outputs: dict[str, dict[str, str]] = {}
    for stack in stacks:
        upload_assets(session, outdir, stack, account, region)
        outputs[stack] = create_stack(session, outdir, stack)
    return outputs
