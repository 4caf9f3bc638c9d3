"""`make demo`: the incident replayed against the guardrail deployed on the local AWS stand-in.

1. Start moto's server on 127.0.0.1 (in this process, over the moto the deployed handlers call
   in-process: `devtools.moto_server.moto_in_process`); synthesize the app (cdk-nag included) for the
   scenario's shape and deploy it through the server with CloudFormation, assets uploaded as `cdk
   deploy` does: by default the guardrail's home in ap-northeast-1 and its regional stack in
   us-west-2, where Athena and the batch run (a scenario with `memberAccounts` also deploys the
   member stack in each member account).
2. Build the incident's world where the batch runs: the batch function (reserved concurrency 7), its
   Glue tables, one of them over a bucket in another region; two bystanders (no reservation, and one
   tagged exempt), in the first member account when there is an organization.
3. Replay the night on the events' own clock: every event is put on the bus of the batch's account
   and region and travels by the deployed rules (forwarded home) to the deployed handlers. Show
   progress, then the timeline, the spend, the alert, a PNG chart.
4. Act as the operator with the `guardrail` command, through the server: status, a manual throttle,
   restore everything, the batch function's history, and check that every reservation came back
   exactly. Stop the server.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3

from devtools.alternatives import query_usd
from devtools.chart import write_chart
from devtools.fleet import FleetDeployment, FleetShape, deploy_fleet
from devtools.incident import QueryStatistics, Timeline, build_world, create_function, replay_incident
from devtools.moto_server import ACCOUNT, moto_in_process
from devtools.replay import ReplayQuery
from devtools.scenario import DEFAULT, Scenario
from guardrail.detectors.athena.cost import TB
from guardrail_cli import grammar
from guardrail_cli.main import main as guardrail_command

ROOT = Path(__file__).resolve().parents[1]
BYSTANDERS = {"report-builder": {}, "payments-api": {"guardrail:exempt": "true"}}


class Narrator:
    """Prints timed steps."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def step(self, text: str) -> None:
        """Print one step with the wall time since the demo started."""
        print(f"[{time.monotonic() - self.start:5.1f}s] {text}", flush=True)


def create_bystanders(session: boto3.session.Session) -> None:
    """Functions the operator will act on by hand (the batch function is the scenario's), with their role."""
    for name, tags in BYSTANDERS.items():
        create_function(session, name, role="bystander-role", tags=tags)


def reservations(session: boto3.session.Session, names: Sequence[str]) -> dict[str, int | None]:
    """Each function's reserved concurrency right now."""
    client = session.client("lambda")
    return {
        n: client.get_function_concurrency(FunctionName=n).get("ReservedConcurrentExecutions") for n in names
    }


def operator(session: boto3.session.Session, endpoint: str, *args: str) -> int:
    """Run the `guardrail` console command as an operator would, echoing it."""
    print(f"\n$ guardrail {' '.join(args)}")
    output = io.StringIO()
    with redirect_stdout(output):
        code = guardrail_command(
            ["--endpoint-url", endpoint, "--region", session.region_name or "", *args], session=session
        )
    print("\n".join(f"  {line}" for line in output.getvalue().splitlines()))
    return code


def spend(scenario: Scenario, queries: list[ReplayQuery]) -> str:
    """Queries, bytes and dollars, in one line."""
    total = len(queries) * query_usd(scenario)
    scanned = sum(q.scanned_bytes for q in queries) / TB
    return f"{len(queries):,} queries, {scanned:.2f} TB scanned, ${total:,.2f}"


def show_progress(scenario: Scenario) -> Callable[[datetime, int, list[ReplayQuery]], None]:
    """A progress printer for the replay."""

    def progress(at: datetime, deliveries: int, issued: list[ReplayQuery]) -> None:
        print(f"         {at:%H:%M} event time | {deliveries:,} events delivered | {spend(scenario, issued)}")

    return progress


def show_timeline(scenario: Scenario, timeline: Timeline) -> None:
    """The night as it happened: the loop, the detection, the throttle, and what it cost."""
    looped = [q for q in timeline.issued if q.looping]
    print("\nTimeline (event time, UTC)")
    planned = scenario.replay.batch_queries
    moments = [(timeline.start, f"the nightly batch starts ({planned} queries planned)")]
    if timeline.loop_started_at:
        moments.append((timeline.loop_started_at, "an unhandled error turns the recursion into a loop"))
    if timeline.limits_left_at:
        moments.append((timeline.limits_left_at, "its query rate leaves the configured (fixed) limits"))
    if timeline.throttled_at:
        after_loop = ""
        if timeline.loop_started_at:
            seconds = (timeline.throttled_at - timeline.loop_started_at).total_seconds()
            after_loop = f", {seconds:.0f} s after the loop started"
        function = scenario.replay.function
        moments.append(
            (
                timeline.throttled_at,
                f"Runaway Guardrail throttles {function} ({_since_limits(timeline)}{after_loop})",
            )
        )
    for at, what in sorted(moments, key=lambda moment: moment[0]):
        print(f"  {at:%H:%M:%S}  {what}")
    print(f"\nSpent before the stop: {spend(scenario, timeline.issued)}")
    print(f"  of which the loop:   {spend(scenario, looped)}")
    per_day = 86_400 / scenario.replay.loop_interval_seconds
    print(
        f"Left running, the loop would spend ${per_day * query_usd(scenario):,.0f} a day "
        f"({per_day * scenario.replay.scanned_bytes / TB:,.1f} TB a day)."
    )


def _since_limits(timeline: Timeline) -> str:
    """How the throttle stands against the fixed limits: seconds after (or before) they were left."""
    if timeline.detection_delay is None:
        return "the fixed limits were never left"
    seconds = timeline.detection_delay.total_seconds()
    return f"{seconds:+.0f} s against the fixed limits"


@contextmanager
def through(endpoint: str) -> Iterator[None]:
    """Clients made in the block send their calls to `endpoint` (moto's server)."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)


def run(endpoint: str, workdir: Path, out: Path, scenario: Scenario, narrator: Narrator) -> list[str]:
    """Deploy, replay and operate; return the problems found (none is success).

    The deploy, the world and the operator's commands go through moto's server; the deployed
    handlers, run in this process as Lambda would run them, call the same moto in-process.
    """
    replay = scenario.replay
    workdir.mkdir(parents=True, exist_ok=True)
    logs = (workdir / "handlers.log").open("w")  # what CloudWatch Logs would hold
    shape = FleetShape.of(scenario)
    with through(endpoint):
        fleet, before, aside = deploy_world(workdir, scenario, shape, logs, narrator)
    narrator.step(
        f"the world in {replay.athena_region}: {replay.function} in account {replay.account}, the"
        f" bystanders in account {aside}: {before}; data in {replay.data_region}, Athena in"
        f" {replay.athena_region}, the guardrail in {shape.home}"
    )
    narrator.step(f"replaying '{scenario.name}' through the deployed rules and handlers:")
    with QueryStatistics(replay):
        timeline = replay_incident(
            scenario, fleet, progress=show_progress(scenario), progress_every=timedelta(hours=2)
        )
    narrator.step(f"replay done: {timeline.deliveries:,} events delivered")
    show_timeline(scenario, timeline)
    show_alert(fleet.envelopes())
    chart = write_chart(scenario, timeline, out / "incident-replay.png")
    narrator.step(f"chart written to {chart}")

    home = fleet.accounts.home
    operator(home, endpoint, "status")
    manual = operator(
        home,
        endpoint,
        "throttle",
        *BYSTANDERS,
        "--reason",
        "operator: contain the blast radius",
        *place_options(aside, replay.athena_region),
    )
    throttled = now(fleet, scenario, aside)
    operator(home, endpoint, "restore", "--all", "--yes")
    after = now(fleet, scenario, aside)
    operator(home, endpoint, "history", replay.function, *place_options(replay.account, replay.athena_region))
    logs.close()
    print("\nReservations")
    print(f"  before the night:   {before}")
    print(f"  while throttled:    {throttled}  (payments-api is tagged guardrail:exempt)")
    print(f"  after restore --all: {after}  {'= before, exactly' if after == before else '!= before'}")
    return problems(timeline, manual, throttled, before, after)


def deploy_world(
    workdir: Path, scenario: Scenario, shape: FleetShape, logs: TextIO, narrator: Narrator
) -> tuple[FleetDeployment, dict[str, int | None], str]:
    """Deploy the fleet and build the world; return it, the reservations, and the bystanders' account."""
    replay = scenario.replay
    fleet = deploy_fleet(workdir, shape, detectors={"athena-watch": scenario.athena_watch}, logs=logs)
    narrator.step(
        f"synthesized and deployed {', '.join(fleet.stacks)} with CloudFormation, home {shape.home}; outputs:"
    )
    for key in ("KillSwitchFunctionName", "AlertTopicArn", "LedgerTableName"):
        print(f"         {key} = {fleet.outputs[key]}")
    if shape.members:
        places = ", ".join(sorted({region for _, region in shape.places}))
        narrator.step(f"the member stack deployed in accounts {', '.join(shape.members)} ({places})")
    build_world(fleet.accounts.session(replay.account, replay.athena_region), scenario)
    # in an organization the bystanders are a member's: the operator acts on them through its role
    aside = shape.members[0] if shape.members else replay.account
    create_bystanders(fleet.accounts.session(aside, replay.athena_region))
    return fleet, now(fleet, scenario, aside), aside


def now(fleet: FleetDeployment, scenario: Scenario, aside: str) -> dict[str, int | None]:
    """The reservations of the batch function and of the bystanders (in account `aside`) right now."""
    replay = scenario.replay
    batch = fleet.accounts.session(replay.account, replay.athena_region)
    side = fleet.accounts.session(aside, replay.athena_region)
    return {**reservations(batch, [replay.function]), **reservations(side, list(BYSTANDERS))}


def place_options(account: str, region: str) -> list[str]:
    """The `guardrail` command's options naming where functions named by name are."""
    return ["--target-region", region] + ([] if account == ACCOUNT else ["--account", account])


def show_alert(envelopes: list[dict[str, Any]]) -> None:
    """The throttle's alert as an e-mail reader receives it."""
    throttles = [e for e in envelopes if json.loads(e["Message"]).get("event_type") == "throttled"]
    if throttles:
        print(f"\nThe alert, as an e-mail reader receives it ({len(envelopes)} alerts in all):")
        print(f"    Subject: {throttles[0]['Subject']}")
        text = json.loads(throttles[0]["Message"])["text"]
        print("\n".join(f"    | {line}" for line in text.splitlines()))


def problems(
    timeline: Timeline,
    manual: int,
    throttled: dict[str, int | None],
    before: dict[str, int | None],
    after: dict[str, int | None],
) -> list[str]:
    """What went wrong, if anything."""
    found = []
    if timeline.throttled_at is None:
        found.append("the guardrail never throttled the looping function")
    elif timeline.detection_delay is not None and timeline.detection_delay.total_seconds() > 120:
        found.append(f"the throttle came {timeline.detection_delay} after the rate left the limits (> 2 min)")
    if manual != grammar.EXIT_OK:
        found.append(f"the manual throttle exited {manual}")
    if [v for k, v in throttled.items() if k != "payments-api"] != [0, 0] or throttled[
        "payments-api"
    ] is not None:
        found.append(f"unexpected reservations while throttled: {throttled}")
    if after != before:
        found.append(f"restore did not put back {before}: {after}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `make demo`."""
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--scenario", type=Path, default=DEFAULT, help="a replay scenario (JSON)")
    parser.add_argument("--out", type=Path, default=ROOT / ".demo", help="where the chart is written")
    parser.add_argument("--keep", type=Path, help="keep the synthesized app and the handlers' logs here")
    args = parser.parse_args(argv)
    scenario = Scenario.load(args.scenario)
    narrator = Narrator()
    os.environ.update({"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"})
    os.environ.pop("AWS_PROFILE", None)
    with moto_in_process() as endpoint, tempfile.TemporaryDirectory() as scratch:
        narrator.step(f"moto server (the local AWS stand-in) is up at {endpoint}")
        found = run(endpoint, args.keep or Path(scratch), args.out, scenario, narrator)
    narrator.step("moto server stopped")
    for problem in found:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("demo passed" if not found else "demo FAILED")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
