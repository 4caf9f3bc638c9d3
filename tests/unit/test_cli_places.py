"""The CLI's `--account` / `--target-region`: where a command's targets are; `--region`: the kill switch's."""

from __future__ import annotations

import io

import pytest

from guardrail_cli.grammar import build_parser, check, request_for
from guardrail_cli.output import render


def request(*argv: str) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    check(parser, args)
    return request_for(args)


def test_names_with_one_account_and_region_and_the_kill_switchs_own_region_apart():
    parser = build_parser()
    argv = [
        "throttle",
        "batch",
        "--account",
        "222222222222",
        "--target-region",
        "us-west-2",
        "--reason",
        "loop",
    ]
    args = parser.parse_args(["--region", "ap-northeast-1", *argv])
    assert args.region == "ap-northeast-1"  # where the kill switch is invoked
    assert parser.parse_args([*argv, "--region", "ap-northeast-1"]) == args  # the same after the command
    assert request_for(args) == {
        "action": "throttle",
        "functions": ["batch"],
        "account": "222222222222",
        "region": "us-west-2",
        "reason": "loop",
    }


def test_panic_and_restore_all_take_every_account_and_region_named():
    assert request(
        "panic",
        "--reason",
        "r",
        "--account",
        "222222222222",
        "--account",
        "333333333333",
        "--target-region",
        "us-west-2",
    ) == {
        "action": "panic",
        "reason": "r",
        "accounts": ["222222222222", "333333333333"],
        "regions": ["us-west-2"],
    }
    assert request("restore", "--all", "--account", "222222222222") == {
        "action": "restore",
        "functions": "all",
        "workgroups": "all",
        "accounts": ["222222222222"],
    }


def test_names_take_one_place_only():
    with pytest.raises(SystemExit):
        request(
            "throttle",
            "batch",
            "--target-region",
            "us-west-2",
            "--target-region",
            "eu-west-1",
            "--reason",
            "r",
        )


def test_status_is_printed_under_each_account_and_region():
    out = io.StringIO()
    render(
        {
            "ok": True,
            "action": "status",
            "results": [
                {"function": "b", "account": "222222222222", "region": "us-west-2", "result": "throttled"},
                {
                    "function": "a",
                    "account": "111111111111",
                    "region": "ap-northeast-1",
                    "result": "throttled",
                },
            ],
        },
        out,
    )
    lines = out.getvalue().splitlines()
    assert lines[1:] == [
        " account 111111111111, region ap-northeast-1:",
        "  a  throttled",
        " account 222222222222, region us-west-2:",
        "  b  throttled",
    ]
