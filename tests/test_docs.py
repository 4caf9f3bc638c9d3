"""The commands the README and docs/ show run as written: each `guardrail ...` invocation parses with the
real argument parser, each `make` target exists, each raw kill-switch request is one the kill switch
accepts, and the README's example alert is what the renderer writes."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardrail.alerts import Alert, AlertEvent, Phase, render
from guardrail.alerts.chat import chat_notification
from guardrail.domain import Target
from guardrail.kill_switch import confirmation, parse_request
from guardrail.scope import Scope
from guardrail_cli.grammar import build_parser, check

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Fenced blocks of commands (and the alert's text, which shows its undo commands); not Python or JSON.
SHELL = {"", "sh", "shell", "bash", "console", "text"}
_SPAN = re.compile(r"`([^`\n]+)`")
COMMANDS = {"throttle", "restore", "status", "panic", "history", "pause", "resume"}
MAKE_TARGETS = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def shown(program: str) -> list[tuple[str, str]]:
    """Every `program ...` command the pages show: (where, command), from code blocks and inline code."""
    found = []
    for page in PAGES:
        text = page.read_text()
        blocks = [block.replace("\\\n", " ") for kind, block in _FENCE.findall(text) if kind.strip() in SHELL]
        lines = [line.strip() for block in blocks for line in block.splitlines()]
        spans = _SPAN.findall(_FENCE.sub("", text))
        for command in [*lines, *spans]:
            if command.startswith(f"{program} "):
                found.append((page.relative_to(ROOT).as_posix(), command))
    return found


def words(command: str) -> list[str]:
    """The command's arguments, without its comment, and without a leading `...` (options elided)."""
    argv = shlex.split(command, comments=True)[1:]
    return argv[1:] if argv[:1] == ["..."] else argv


def test_the_pages_show_commands_to_check():
    where = {page for page, _ in shown("guardrail")}
    assert {"README.md", "docs/kill-switch.md"} <= where
    assert len(shown("guardrail")) > 20
    assert len(shown("make")) > 5


@pytest.mark.parametrize(("page", "command"), shown("guardrail"), ids=lambda value: str(value)[:60])
def test_each_guardrail_command_shown_parses(page, command, capsys):
    argv = words(command)
    if len(argv) == 1 and argv[0] in COMMANDS:  # a command named in prose, not an invocation
        return
    parser = build_parser()
    try:
        check(parser, parser.parse_args(argv))
    except SystemExit as exited:
        if exited.code == 0:  # --help, --version
            return
        pytest.fail(f"{page}: {command!r} does not parse: {capsys.readouterr().err.strip()}")


@pytest.mark.parametrize(("page", "command"), shown("make"), ids=lambda value: str(value)[:60])
def test_each_make_target_shown_exists(page, command):
    targets = [word for word in words(command) if "=" not in word and not word.startswith("-")]
    assert targets, f"{page}: {command!r}"
    assert set(targets) <= MAKE_TARGETS, f"{page}: {command!r} names a target the Makefile lacks"


def raw_requests() -> list[tuple[str, str]]:
    """The payloads of every `aws lambda invoke ... --payload '...'` the pages show."""
    found = []
    for page, command in shown("aws"):
        argv = words(command)
        payload = argv[argv.index("--payload") + 1] if "--payload" in argv else ""
        if argv[:2] == ["lambda", "invoke"] and payload and not payload.startswith("file://"):
            found.append((page, payload))
    return found


def test_the_pages_show_raw_requests():
    assert {page for page, _ in raw_requests()} >= {"README.md"}


@pytest.mark.parametrize(("page", "payload"), raw_requests(), ids=lambda value: str(value)[:60])
def test_each_raw_kill_switch_request_shown_is_accepted(page, payload):
    scope = Scope(account="123456789012", region="us-east-1")
    request = json.loads(payload)
    if "confirm" in request:
        request["confirm"] = confirmation(request["confirm"].rsplit("-", 1)[0], scope.account)
    parse_request(request, scope=scope)  # raises InvalidRequest, naming the problem


def example_alert() -> Alert:
    """The alert the README and docs/alerts.md show: the replay's throttle, rendered for real."""
    return render(
        AlertEvent(
            phase=Phase.APPLIED,
            target=Target.function("nightly-batch"),
            detector="athena-watch",
            reason="loop signature repeated-statement: 5 queries ran one statement in 13 s",
            at=datetime(2026, 11, 28, 2, 30, 13, tzinfo=UTC),
            region="us-west-2",
            kill_switch_function="runaway-guardrail-kill-switch",
            prior=7,
            evidence={
                "workgroup": "primary",
                "region": "us-west-2",
                "queries_last_5_min": 5,
                "cost_usd_last_24_h": 0.57,
                "cross_region": {"data_regions": ["ap-northeast-1"], "athena_region": "us-west-2"},
            },
        )
    )


def chat_picture(alert: Alert) -> str:
    """The alert's Chatbot notification as a chat client shows it: a quoted Markdown block."""
    content = chat_notification(alert)["content"]
    lines = [f"**{content['title']}**", "", *content["description"].splitlines(), "", *content["nextSteps"]]
    return "\n".join(f"> {line}".rstrip() + ("  " if line else "") for line in lines)


def test_the_example_alert_shown_is_the_renderers():
    alert = example_alert()
    assert f"```text\n{alert.text.rstrip()}\n```" in (ROOT / "README.md").read_text()
    alerts_page = (ROOT / "docs" / "alerts.md").read_text()
    assert f"```text\n{alert.text.rstrip()}\n```" in alerts_page
    assert chat_picture(alert) in alerts_page


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_every_page_of_docs_is_linked_from_the_readme():
    linked = set(_LINK.findall((ROOT / "README.md").read_text()))
    assert {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")} <= {
        link.split("#")[0] for link in linked
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for link in _LINK.findall(_FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists() or (anchor and target.suffix == ".md" and anchor not in anchors(target)):
            broken.append(link)
    assert broken == []


def test_the_readme_fits_on_a_screen_or_two_in_the_order_a_newcomer_needs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 10 * 1024
    firsts = ["```mermaid", "make demo", "make test", '"notifyOnly": true']
    firsts += [
        "guardrail throttle nightly-batch --",
        "--payload",
        "@recursion_guard",
        "Runaway Guardrail throttled nightly-batch",
        "## More",
    ]
    assert [readme.index(marker) for marker in firsts] == sorted(readme.index(marker) for marker in firsts)


def test_where_things_are_names_every_package_and_top_module_of_the_product():
    """docs/architecture.md matches the tree: every package, and every module of guardrail/'s top level,
    of guardrail_cli/ and of runaway_guardrail_cdk/, is named there (modules inside a package are the
    package's to list)."""
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    packages = {f"{path.parent.name}/" for path in ROOT.glob("guardrail/**/__init__.py")}
    modules = [
        *ROOT.glob("guardrail/*.py"),
        *ROOT.glob("guardrail_cli/*.py"),
        *ROOT.glob("runaway_guardrail_cdk/*.py"),
    ]
    names = packages | {path.name for path in modules if path.name != "__init__.py"}
    assert sorted(name for name in names if name not in architecture) == []
