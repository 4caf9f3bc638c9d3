"""Cloud Custodian as a measured peer: when a periodic c7n policy would stop the incident's loop.

The policy is what a team would write with Custodian alone: `aws.lambda`, a `metrics` filter on
Lambda's `Invocations` (Sum over the last schedule interval) over the guardrail's own default rate
(60 queries in 5 minutes, one invocation per query), and `set-concurrency: 0`. It runs against moto's
server on 127.0.0.1 (`devtools.moto_server`; c7n reaches it through `AWS_ENDPOINT_URL`, which
botocore honours for every client c7n makes) with the default scenario's night: the batch function
invokes itself once per query, so each query is one invocation, published per minute as Lambda does,
and shown `lag_minutes` after its minute ends, as CloudWatch would. c7n 0.9.53 is installed by the
bench into its own throwaway virtualenv (not a dependency of this project) and run tick by tick by
`devtools/custodian_driver.py` on the replay's clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from devtools.alternatives import loop_queries, query_usd
from devtools.bench_incident import duration
from devtools.incident import EMPTY_ZIP, LAMBDA_TRUST
from devtools.moto_server import moto_server
from devtools.scenario import Scenario

C7N = "c7n==0.9.53"
DRIVER = Path(__file__).resolve().parent / "custodian_driver.py"
POLICY = "lambda-invocation-runaway"
#: The guardrail's default caller limit (cdk.json): 60 queries in 5 minutes, as invocations per minute.
PER_MINUTE = 12
MINUTE = timedelta(minutes=1)


def policy_document(
    schedule_minutes: int, window_minutes: int, namespace: str = "AWS/Lambda"
) -> dict[str, Any]:
    """The periodic policy: more Invocations in the last `window_minutes` than the default rate, then 0."""
    return {
        "policies": [
            {
                "name": POLICY,
                "resource": "aws.lambda",
                "mode": {"type": "periodic", "schedule": f"rate({schedule_minutes} minutes)"},
                "filters": [
                    {
                        "type": "metrics",
                        "name": "Invocations",
                        "namespace": namespace,
                        "statistics": "Sum",
                        "days": window_minutes / (24 * 60),
                        "period": window_minutes * 60,
                        "value": PER_MINUTE * window_minutes,
                        "op": "greater-than",
                    }
                ],
                "actions": [{"type": "set-concurrency", "value": 0}],
            }
        ]
    }


def pull_mode(document: dict[str, Any]) -> dict[str, Any]:
    """The same policy run by `custodian run` on the bench's ticks (periodic mode deploys a Lambda)."""
    policies = [{k: v for k, v in policy.items() if k != "mode"} for policy in document["policies"]]
    return {"policies": policies}


def invocations_per_minute(scenario: Scenario) -> dict[datetime, int]:
    """The function's invocations in each minute of the night: one per query it starts."""
    counts = Counter(q.started_at.replace(second=0, microsecond=0) for q in scenario.replay.night_queries())
    return dict(sorted(counts.items()))


def datapoints(per_minute: dict[datetime, int], lag_minutes: float) -> list[dict[str, Any]]:
    """Each minute's Sum, and when CloudWatch shows it: `lag_minutes` after the minute ends."""
    lag = timedelta(minutes=lag_minutes)
    return [
        {"minute": minute.isoformat(), "count": count, "visible_at": (minute + MINUTE + lag).isoformat()}
        for minute, count in per_minute.items()
    ]


def ticks(
    loop_start: datetime, schedule_minutes: int, *, before: int = 2, horizon_hours: float = 3
) -> list[datetime]:
    """The schedule's runs, on the clock's multiples of the interval, from `before` runs ahead of the loop."""
    step = timedelta(minutes=schedule_minutes)
    midnight = loop_start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + step * ((loop_start - midnight) // step - before + 1)
    return [first + step * n for n in range(int(horizon_hours * 60 / schedule_minutes) + before)]


def matched(output_dir: Path) -> list[dict[str, Any]]:
    """What c7n's last run matched (its `resources.json`): each function and the Invocations it read."""
    path = output_dir / POLICY / "resources.json"
    if not path.exists():
        return []
    out = []
    for resource in json.loads(path.read_text()):
        metrics = resource.get("c7n.metrics", {})
        sums = [point.get("Sum") for points in metrics.values() for point in points]
        out.append({"function": resource["FunctionName"], "invocations": sums})
    return out


def custodian_python(workdir: Path) -> Path:
    """A throwaway virtualenv with c7n in `workdir`; its interpreter."""
    venv.EnvBuilder(with_pip=True).create(workdir / "c7n")
    python = workdir / "c7n" / "bin" / "python"
    subprocess.run(  # noqa: S603 - the virtualenv's own pip, a pinned requirement
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", C7N],
        check=True,
        capture_output=True,
    )
    return python


def measure(
    python: Path, scenario: Scenario, variant: tuple[int, int], lag_minutes: float, workdir: Path
) -> dict[str, Any]:
    """Run the policy on its schedule against a fresh stand-in: when it set the function to 0, the bill."""
    schedule_minutes, window_minutes = variant
    replay = scenario.replay
    loop_start = next(q.started_at for q in replay.night_queries() if q.looping)
    name = f"{schedule_minutes}-{window_minutes}-{lag_minutes:g}"
    policy = workdir / f"policy-{name}.json"
    policy.write_text(json.dumps(pull_mode(policy_document(schedule_minutes, window_minutes))))
    output = workdir / f"out-{name}"
    with moto_server() as endpoint:
        _create_function(endpoint, replay.athena_region, replay.function, scenario.reserved_concurrency)
        spec = {
            "endpoint": endpoint,
            "region": replay.athena_region,
            "namespace": "AWS/Lambda",
            "function": replay.function,
            "policy": str(policy),
            "output_dir": str(output),
            "datapoints": datapoints(invocations_per_minute(scenario), lag_minutes),
            "ticks": [t.isoformat() for t in ticks(loop_start, schedule_minutes)],
        }
        (workdir / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": replay.athena_region}
        env |= {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        done = subprocess.run(  # noqa: S603 - the bench's own virtualenv and driver
            [str(python), str(DRIVER), str(workdir / "spec.json")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"custodian driver failed: {done.stderr[-2000:]}")
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    result = outcome(scenario, loop_start, runs, matched(output))
    return {
        "schedule_minutes": schedule_minutes,
        "window_minutes": window_minutes,
        "lag_minutes": lag_minutes,
        **result,
    }


def outcome(
    scenario: Scenario, loop_start: datetime, runs: list[dict[str, Any]], last_match: list[dict[str, Any]]
) -> dict[str, Any]:
    """Read the ticks: the first after which the function was at 0, how long after the loop, and the cost."""
    stopped = next((datetime.fromisoformat(r["tick"]) for r in runs if r["reserved"] == 0), None)
    early = [r["tick"] for r in runs if r["reserved"] == 0 and datetime.fromisoformat(r["tick"]) < loop_start]
    after = None if stopped is None else stopped - loop_start
    queries = None if after is None else loop_queries(scenario, after)
    return {
        "runs": len(runs),
        "stopped_at": None if stopped is None else stopped.isoformat(timespec="seconds"),
        "stops_after_s": None if after is None else after.total_seconds(),
        "stopped_before_loop": early,
        "loop_queries": queries,
        "usd": None if queries is None else round(queries * query_usd(scenario), 2),
        "matched": last_match,
    }


def _create_function(endpoint: str, region: str, name: str, reserved: int | None) -> None:
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}  # the stand-in's
    session = boto3.session.Session(region_name=region, **keys)
    role = session.client("iam", endpoint_url=endpoint).create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]
    lam = session.client("lambda", endpoint_url=endpoint)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="batch.handler",
        Code={"ZipFile": EMPTY_ZIP},
    )
    if reserved is not None:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)


#: (schedule, metric window) in minutes: the window as long as the interval, and longer than it.
VARIANTS = ((5, 5), (5, 15), (15, 15))


def run(
    variants: tuple[tuple[int, int], ...] = VARIANTS,
    lags: tuple[float, ...] = (2.0,),
    loop_hours: float = 3.0,
) -> dict[str, Any]:
    """Install c7n, then run the policy per variant and CloudWatch lag on the default scenario's night."""
    base = Scenario.load()
    scenario = base.model_copy(update={"loop_minutes": loop_hours * 60})  # the loop runs until stopped
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        python = custodian_python(workdir)
        version = subprocess.run(  # noqa: S603 - the virtualenv's own interpreter
            [str(python), "-c", "import c7n.version; print(c7n.version.version)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        began = time.perf_counter()
        results = [measure(python, scenario, v, lag, workdir) for v in variants for lag in lags]
        seconds = round(time.perf_counter() - began, 1)
    return {
        "c7n": version,
        "scenario": base.name,
        "policy": policy_document(*variants[0]),
        "seconds": seconds,
        "runs": results,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
    sys.exit(0)


def markdown(custodian: dict[str, Any], incident: dict[str, Any]) -> list[str]:
    """The Custodian runs beside the guardrail's own measurement of the same night."""
    (guardrail,) = [row for row in incident["alternatives"] if row["name"].endswith("Runaway Guardrail")]
    lag = custodian["runs"][0]["lag_minutes"]
    lines = [
        "",
        f"## Cloud Custodian as a measured peer (c7n {custodian['c7n']})",
        "",
        "A periodic `aws.lambda` policy with a `metrics` filter (`Invocations`, Sum over its window, over "
        "the guardrail's default rate: 60 in 5 minutes) and `set-concurrency: 0`, run by c7n itself against "
        "moto's server (`AWS_ENDPOINT_URL`) on the incident's night, each query one invocation, published "
        f"per minute and shown {lag:g} min after the minute ends, as CloudWatch would. At each tick of the "
        "schedule the bench publishes what CloudWatch shows by then and runs `custodian run` with c7n's "
        "clock at the tick (`devtools/bench_custodian.py`, `devtools/custodian_driver.py`; "
        f"{custodian['seconds']:.0f} s).",
        "",
        "| protection | schedule | metric window | loop stopped after | loop queries | cost of the loop |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in custodian["runs"]:
        seconds = run["stops_after_s"]
        stopped = f"never in {run['runs']} runs" if seconds is None else f"{seconds / 60:.1f} min"
        queries = "-" if run["loop_queries"] is None else f"{run['loop_queries']:,}"
        usd = "-" if run["usd"] is None else f"${run['usd']:,.2f}"
        lines.append(
            f"| Cloud Custodian | {run['schedule_minutes']} min | {run['window_minutes']} min | {stopped} "
            f"| {queries} | {usd} |"
        )
    seconds = guardrail["stops_after_s"]
    lines += [
        f"| Runaway Guardrail (measured above) | events | 5 min | {duration(seconds)} | "
        f"{guardrail['queries']:,} | ${guardrail['usd']:,.2f} |",
        "",
        "c7n's window ends at its run, and CloudWatch shows a minute only after it: a window as long as the "
        "interval holds the interval less the lag, so at 5 minutes the loop's 20 invocations a minute never "
        "sum over the threshold. A longer window stops it at the first run that sees enough. No run matched "
        "the batch before the loop. A loop at the batch's own pace (`slow-loop.json`) invokes as often as "
        "the batch: no invocation threshold that lets the batch run stops it.",
    ]
    return lines
