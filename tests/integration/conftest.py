"""Fixtures of the integration tests: Athena workgroups faked, and the `guardrail` command.

Athena workgroups are faked at the adapter boundary, for every test that disables or restores one.

moto can read a workgroup but cannot update its state (UpdateWorkGroup is not implemented), so the
workgroup adapter (`AthenaWorkgroups`) gets a real botocore Athena client whose calls botocore's
Stubber answers. Each expected call is queued with the exact parameters it must carry, in order; a
call nobody expected fails (and reaches the Enforcer as an AWS error); the fixture checks at the end
that every expected call was made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from devtools.lambda_runtime import LambdaRuntime, lambda_context
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.handlers import composition, kill_switch
from guardrail_cli.main import main
from tests.conftest import offline_client


class StubbedWorkgroups:
    """The Athena calls a test expects the guardrail to make, and their answers."""

    def __init__(self) -> None:
        self.client = offline_client("athena")
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def expect_read(self, name: str, state: str, configuration: dict[str, object] | None = None) -> None:
        """GetWorkGroup of `name`, answered with `state` (and `configuration`, when given)."""
        found: dict[str, object] = {"Name": name, "State": state}
        if configuration is not None:
            found["Configuration"] = configuration
        self.stubber.add_response("get_work_group", {"WorkGroup": found}, {"WorkGroup": name})

    def expect_set(self, name: str, state: str) -> None:
        """UpdateWorkGroup of `name` to exactly `state`."""
        self.stubber.add_response("update_work_group", {}, {"WorkGroup": name, "State": state})

    def expect_restore(self, name: str, state: str) -> None:
        """What a restore reads (the workgroup, disabled, configuration unchanged), then writes: `state`."""
        self.expect_read(name, "DISABLED")
        self.expect_set(name, state)

    def expect_missing(self, name: str, operation: str = "get_work_group") -> None:
        """A call about `name` answered as Athena answers for a workgroup that does not exist."""
        self.stubber.add_client_error(
            operation, "InvalidRequestException", f"WorkGroup {name} is not found.", expected_params=None
        )

    def expect_failure(self, operation: str, code: str = "InternalServerException") -> None:
        """A call answered with an AWS error."""
        self.stubber.add_client_error(operation, code, f"{operation} is down")

    def expect_disable(self, name: str, prior: str = "ENABLED") -> None:
        """What disabling reads and writes: the state to put back, then DISABLED."""
        self.expect_read(name, prior)
        self.expect_set(name, "DISABLED")


@pytest.fixture
def workgroups(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedWorkgroups]:
    """Every enforcer the composition root builds in this test uses the stubbed Athena client."""
    stubbed = StubbedWorkgroups()
    monkeypatch.setattr(
        composition, "AthenaWorkgroups", lambda **_: AthenaWorkgroups(boto3_client=stubbed.client)
    )
    yield stubbed
    stubbed.stubber.assert_no_pending_responses()


@pytest.fixture
def invoke(deployed, monkeypatch):
    """The deployed kill switch's handler: `invoke(request)` answers as Lambda would (JSON)."""
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": deployed.settings.region}.items():
        monkeypatch.setenv(name, value)

    def call(payload):
        return json.loads(
            json.dumps(kill_switch.handler(payload, lambda_context("runaway-guardrail-kill-switch")))
        )

    return call


KILL_SWITCH = "runaway-guardrail-kill-switch"


@pytest.fixture
def guardrail_cli(deployed, make_function, capsys):
    """`guardrail_cli(*argv, target=KILL_SWITCH)`: the command run against the deployed kill switch's handler.

    `nightly-batch` (reserved 7) and the kill switch exist; `Invoke` runs the handler in-process.
    Returns the exit code, stdout without the handler's own log lines, and stderr.
    """
    make_function("nightly-batch", reserved=7)
    client = deployed.session.client("lambda")
    role = client.get_function(FunctionName="nightly-batch")["Configuration"]["Role"]
    client.create_function(
        FunctionName=KILL_SWITCH,
        Runtime="python3.13",
        Role=role,
        Handler="guardrail.handlers.kill_switch.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": deployed.settings.to_env()},
    )
    LambdaRuntime(deployed.session).attach()

    def run(*argv: str, target: str = KILL_SWITCH) -> tuple[int, str, str]:
        code = main(["--function-name", target, *argv], session=deployed.session)
        out, err = capsys.readouterr()
        handler_logs = '{"level"'  # the handler runs in-process; its structured logs share stdout
        return code, "\n".join(line for line in out.splitlines() if not line.startswith(handler_logs)), err

    return run
