"""The `guardrail` command's AWS set-up as the AWS CLI's: region and profile from the environment, and
each failure one line with what to do next, under its own exit code (never 1, "partly done")."""

from __future__ import annotations

import botocore.exceptions
import pytest

from guardrail_cli import grammar
from guardrail_cli.aws import session_for
from guardrail_cli.main import main

pytestmark = pytest.mark.slow  # the guardrail command driven end to end against a deployed stand-in

ANY_REGION = "eu-west-1"


@pytest.fixture
def no_aws_config(tmp_path, monkeypatch):
    """No configuration or credentials files, and no instance metadata to fall back on."""
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)


def one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    return err.strip()


def test_aws_region_comes_before_aws_default_region_and_region_before_both(no_aws_config, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert session_for(grammar.parse(["status"])).region_name == "us-east-1"
    monkeypatch.setenv("AWS_REGION", ANY_REGION)
    assert session_for(grammar.parse(["status"])).region_name == ANY_REGION
    assert (
        session_for(grammar.parse(["status", "--region", "ap-northeast-1"])).region_name == "ap-northeast-1"
    )


def test_aws_profile_is_honoured(no_aws_config, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert session_for(grammar.parse(["status"])).region_name == "ap-south-1"


def test_an_unknown_profile_is_one_line_not_a_traceback(no_aws_config, capsys):
    assert main(["--profile", "nosuch", "status"]) == grammar.EXIT_AWS_SETUP
    line = one_line(capsys)
    assert "profile 'nosuch' not found" in line
    assert "aws configure" in line


def test_no_region_says_how_to_set_one(no_aws_config, capsys):
    assert main(["status"]) == grammar.EXIT_AWS_SETUP
    assert "no AWS region: pass --region, set AWS_REGION" in one_line(capsys)


def test_no_credentials_says_how_to_sign_in(no_aws_config, capsys):
    assert main(["--region", ANY_REGION, "--function-name", "ks", "status"]) == grammar.EXIT_AWS_SETUP
    assert "no AWS credentials: run `aws configure` (or `aws sso login`)" in one_line(capsys)


def test_a_stack_not_deployed_names_the_region_and_what_to_pass(aws, capsys):
    assert main(["status"]) == grammar.EXIT_UNREACHABLE
    line = one_line(capsys)
    assert "stack RunawayGuardrailService is not deployed in us-east-1" in line
    assert "--region" in line
    assert "--function-name" in line


def test_access_denied_names_the_permission_needed(aws, capsys):
    def deny(**_):
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        raise botocore.exceptions.ClientError(error, "Invoke")

    aws.events.register("before-call.lambda.Invoke", deny)
    assert main(["--function-name", "ks", "status"], session=aws) == grammar.EXIT_AWS_SETUP
    line = one_line(capsys)
    assert "access denied in us-east-1 (AccessDeniedException on Invoke)" in line
    assert "lambda:InvokeFunction on the kill switch" in line
