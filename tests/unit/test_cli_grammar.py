"""The `guardrail` command's grammar: AWS options before or after the command, --version, help, prompts."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from guardrail_cli.aws import KillSwitch
from guardrail_cli.grammar import EXIT_CODES, EXIT_REJECTED, build_parser, parse
from guardrail_cli.main import prompt

AWS_OPTIONS = [
    ["--region", "eu-west-1"],
    ["--profile", "ops"],
    ["--endpoint-url", "http://127.0.0.1:5000"],
    ["--function-name", "my-kill-switch"],
    ["--stack", "MyStack"],
    ["--json"],
]


@pytest.mark.parametrize("option", AWS_OPTIONS, ids=lambda option: option[0])
@pytest.mark.parametrize("command", [["status"], ["restore", "batch"], ["history", "--since", "2026-11-01"]])
def test_an_aws_option_means_the_same_before_or_after_the_command(option, command):
    before, after = parse([*option, *command]), parse([*command, *option])
    assert before == after
    assert getattr(before, option[0].removeprefix("--").replace("-", "_")) == (option[1:] or [True])[0]


def test_an_option_after_the_command_does_not_undo_one_given_before_it():
    args = parse(["--region", "eu-west-1", "--json", "status", "--profile", "ops"])
    assert (args.region, args.json, args.profile) == ("eu-west-1", True, "ops")


def test_the_kill_switch_is_named_one_way_only(capsys):
    with pytest.raises(SystemExit) as exited:
        parse(["--function-name", "ks", "status", "--stack", "Other"])
    assert exited.value.code == EXIT_REJECTED
    assert "--function-name and --stack name the kill switch two ways" in capsys.readouterr().err


def test_version_prints_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert (exited.value.code, capsys.readouterr().out.strip()) == (
        0,
        f"guardrail {version('runaway-guardrail')}",
    )


@pytest.mark.parametrize("command", ["throttle", "restore", "status", "panic", "history", "pause", "resume"])
def test_each_commands_help_has_a_description_examples_and_the_exit_codes(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    examples = text[text.index("examples:") : text.index("exit codes:")].splitlines()[1:]
    assert [line for line in examples if line.strip()]
    assert all(line.strip().startswith(f"guardrail {command}") for line in examples if line.strip())
    assert EXIT_CODES in text
    assert "--region" in text  # the AWS options are accepted after the command too


def test_the_panic_prompt_names_the_account_and_region_it_acts_in():
    kill_switch = KillSwitch("runaway-guardrail-kill-switch", "ap-northeast-1")
    args = parse(["panic", "--reason", "r", "--account", "222222222222", "--target-region", "us-west-2"])
    asked = prompt(args, "panic", kill_switch, "111111111111")
    assert asked.startswith(
        "Throttle EVERY non-exempt function in account 222222222222 and region us-west-2?"
    )
    assert "kill switch runaway-guardrail-kill-switch in account 111111111111, region ap-northeast-1" in asked

    own = prompt(parse(["panic", "--reason", "r"]), "panic", kill_switch, "111111111111")
    assert own.startswith(
        "Throttle EVERY non-exempt function in account 111111111111 and region ap-northeast-1?"
    )
    assert "default region" not in own


def test_the_restore_all_prompt_says_everywhere_unless_narrowed():
    kill_switch = KillSwitch("arn:aws:lambda:ap-northeast-1:111111111111:function:ks", "ap-northeast-1")
    everywhere = prompt(parse(["restore", "--all"]), "restore-all", kill_switch, "111111111111")
    assert everywhere.startswith("Restore EVERY function and workgroup the guardrail holds in every account")
    narrowed = prompt(
        parse(["restore", "--all", "--account", "222222222222"]), "restore-all", kill_switch, "1"
    )
    assert "holds in account 222222222222?" in narrowed
