"""The `guardrail` command against the kill switch's real handler, on moto.

moto cannot run Lambda code, so `lambda.Invoke` is answered by the shared in-process Lambda runtime,
which runs the deployed function's handler with the function's configured environment. moto cannot
update an Athena workgroup, so workgroups are faked with botocore's Stubber (`workgroups` fixture).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ReadTimeoutError

from guardrail.domain import Finding, Result, Target
from guardrail.kill_switch import confirmation
from guardrail_cli import aws, grammar
from guardrail_cli.main import main
from tests.integration.conftest import KILL_SWITCH

#: Panic and restore-all act on functions in parallel threads: moto's DynamoDB needs the patches that
#: make its writes atomic and its transactions copy only their items (a transaction deep-copying the
#: table beside another thread's write failed with "dictionary changed size during iteration").
pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("moto_patches"),
]  # the guardrail command driven end to end against a deployed stand-in


def test_throttle_status_restore_with_readable_output(guardrail_cli, deployed):
    code, out, _ = guardrail_cli("throttle", "nightly-batch", "--reason", "loop")
    assert code == grammar.EXIT_OK
    assert "nightly-batch  throttled" in out
    assert "prior reservation 7" in out
    assert deployed.reservation("nightly-batch") == 0

    code, out, _ = guardrail_cli("status")
    assert (code, "status (enforce): 1 function(s)") == (0, out.splitlines()[0])

    code, out, _ = guardrail_cli("--json", "restore", "--all", "--yes")
    assert code == grammar.EXIT_OK
    assert '"result": "restored"' in out
    assert deployed.reservation("nightly-batch") == 7


def test_exit_codes_for_partial_rejected_and_unreachable(guardrail_cli, deployed):
    code, out, _ = guardrail_cli("throttle", "ghost", "nightly-batch", "--reason", "loop")
    assert code == grammar.EXIT_PARTIAL
    assert "ghost          not-found" in out

    code, out, _ = guardrail_cli("restore", "not a name")
    assert code == grammar.EXIT_REJECTED
    assert out.startswith("rejected: functions:")

    code, _, err = guardrail_cli("status", target="no-such-kill-switch")
    assert code == grammar.EXIT_UNREACHABLE
    assert "could not invoke the kill switch" in err


def test_panic_needs_confirmation_when_not_interactive(guardrail_cli, deployed, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = guardrail_cli("panic", "--reason", "bill")
    assert code == grammar.EXIT_REJECTED
    assert "--yes" in err
    assert deployed.reservation("nightly-batch") == 7

    code, out, _ = guardrail_cli("panic", "--reason", "bill", "--yes")
    assert code == grammar.EXIT_OK
    assert deployed.reservation("nightly-batch") == 0
    assert f"{KILL_SWITCH}  exempt" in out


def sent_requests(session) -> list[dict]:
    """Record every request the CLI sends to the kill switch."""
    sent: list[dict] = []
    session.events.register(
        "before-parameter-build.lambda.Invoke", lambda params, **_: sent.append(json.loads(params["Payload"]))
    )
    return sent


def test_destructive_requests_carry_the_confirmation_token(guardrail_cli, deployed, monkeypatch):
    """Issue 9: panic and restore --all are confirmed by the operator and sent with the account's token."""
    sent = sent_requests(deployed.session)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "panic")
    code, _, _ = guardrail_cli("panic", "--reason", "bill")
    assert code == grammar.EXIT_OK
    assert deployed.reservation("nightly-batch") == 0

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")  # not what was asked for
    code, _, err = guardrail_cli("restore", "--all")
    assert (code, err.strip()) == (grammar.EXIT_REJECTED, "restore-all cancelled")
    assert deployed.reservation("nightly-batch") == 0

    monkeypatch.setattr("builtins.input", lambda prompt: "restore all")
    code, out, _ = guardrail_cli("restore", "--all")
    assert code == grammar.EXIT_OK
    assert "nightly-batch  restored" in out
    assert deployed.reservation("nightly-batch") == 7
    identity = deployed.session.client("sts").get_caller_identity()
    assert [request.get("confirm") for request in sent] == [
        confirmation("panic", identity["Account"]),
        confirmation("restore-all", identity["Account"]),
    ]
    assert [request["by"] for request in sent] == [identity["Arn"], identity["Arn"]]  # who asked, recorded


def test_restore_all_needs_confirmation_when_not_interactive(guardrail_cli, deployed, monkeypatch):
    guardrail_cli("throttle", "nightly-batch", "--reason", "loop")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    code, _, err = guardrail_cli("restore", "--all")

    assert code == grammar.EXIT_REJECTED
    assert "restore-all needs confirmation: pass --yes" in err
    assert deployed.reservation("nightly-batch") == 0


def test_a_slow_kill_switch_is_invoked_exactly_once(deployed, capsys):
    """Issue 9, finding 7: the CLI timed out at 60 s and retried a running panic, three panics in all.

    A `before-send` hook answers each Invoke sent to moto as a read timeout would (after the kill switch
    ran); no in-process runtime is attached, as it would answer before anything is sent.
    """
    calls: list[str] = []

    def slow(request, **_):
        calls.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    deployed.session.events.register("before-send.lambda.Invoke", slow)
    assert aws.LAMBDA_CLIENT_CONFIG.read_timeout > aws.KILL_SWITCH_TIMEOUT_SECONDS

    code = main(
        ["--function-name", KILL_SWITCH, "panic", "--reason", "bill", "--yes"], session=deployed.session
    )
    err = capsys.readouterr().err

    assert (code, len(calls)) == (grammar.EXIT_UNREACHABLE, 1)
    assert "could not invoke the kill switch" in err
    with pytest.raises(ReadTimeoutError):  # what the CLI did before: a default client retries the invoke
        deployed.session.client("lambda").invoke(FunctionName=KILL_SWITCH, Payload=b"{}")
    assert len(calls) > 2


def test_workgroups_are_listed_restored_and_disabled_by_name(guardrail_cli, deployed, workgroups):
    """Athena is faked at the adapter boundary with botocore's Stubber (moto cannot update a workgroup)."""
    workgroups.expect_disable("primary", prior="ENABLED")
    finding = Finding(Target.workgroup("primary"), "athena-watch", "alice: 12 queries", deployed.clock())
    assert deployed.enforcer().enforce(finding).result is Result.DISABLED  # as the Athena watch does

    code, out, _ = guardrail_cli("status")
    assert code == grammar.EXIT_OK
    assert out.splitlines()[0] == "status (enforce): 0 function(s), 1 workgroup(s)"
    assert "workgroup primary  disabled" in out
    assert "prior state ENABLED" in out

    workgroups.expect_restore("primary", "ENABLED")
    code, out, _ = guardrail_cli("restore", "--workgroup", "primary")
    assert code == grammar.EXIT_OK
    assert "workgroup primary  restored          prior state ENABLED" in out
    code, out, _ = guardrail_cli("status")
    assert out.splitlines()[0] == "status (enforce): 0 function(s)"

    workgroups.expect_disable("primary", prior="ENABLED")
    code, out, _ = guardrail_cli("throttle", "nightly-batch", "--workgroup", "primary", "--reason", "loop")
    assert code == grammar.EXIT_OK
    assert "nightly-batch      throttled" in out
    assert "workgroup primary  disabled" in out


def test_restore_all_restores_functions_and_workgroups(guardrail_cli, deployed, workgroups):
    workgroups.expect_disable("primary", prior="DISABLED")
    code, _, _ = guardrail_cli("throttle", "nightly-batch", "--workgroup", "primary", "--reason", "loop")
    assert code == grammar.EXIT_OK

    workgroups.expect_restore("primary", "DISABLED")  # it was disabled before: it stays so
    code, out, _ = guardrail_cli("--json", "restore", "--all", "--yes")

    assert code == grammar.EXIT_OK
    assert '"workgroup": "primary"' in out
    assert '"prior_state": "DISABLED"' in out
    assert deployed.reservation("nightly-batch") == 7


def test_bad_workgroup_requests_are_rejected_or_reported(guardrail_cli, deployed, workgroups, capsys):
    workgroups.expect_missing("ghost")
    code, out, _ = guardrail_cli("restore", "--workgroup", "ghost")
    assert code == grammar.EXIT_PARTIAL
    assert "workgroup ghost  not-found" in out

    code, out, _ = guardrail_cli("restore", "--workgroup", "no spaces allowed")
    assert code == grammar.EXIT_REJECTED
    assert "is not an Athena workgroup name" in out

    for argv in (["restore"], ["restore", "--all", "nightly-batch"], ["throttle", "--reason", "x"]):
        with pytest.raises(SystemExit) as exit_:
            guardrail_cli(*argv)
        assert exit_.value.code == grammar.EXIT_REJECTED
    assert "needs a FUNCTION, a --workgroup" in capsys.readouterr().err


def test_ctrl_c_at_the_prompt_cancels_without_a_traceback(guardrail_cli, deployed, monkeypatch):
    def interrupted(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", interrupted)
    code, _, err = guardrail_cli("panic", "--reason", "bill")
    assert (code, err.strip()) == (grammar.EXIT_REJECTED, "panic cancelled")
    assert deployed.reservation("nightly-batch") == 7


def test_ctrl_c_while_the_kill_switch_runs_says_what_to_check(deployed, capsys):
    def interrupted(**_):
        raise KeyboardInterrupt

    deployed.session.events.register("before-send.lambda.Invoke", interrupted)
    code = main(["--function-name", KILL_SWITCH, "status"], session=deployed.session)
    err = capsys.readouterr().err
    assert code == grammar.EXIT_UNREACHABLE
    assert err.startswith(
        "guardrail: interrupted; the kill switch may still be acting: see `guardrail status`"
    )
