"""`make demo` end to end: moto's server, CloudFormation deploy, the incident replayed, the operator.

The demo runs a shortened night (`short-incident.json`: the default scenario with a 100-query batch
and a 5-minute loop, in the same shape): the same throttle, alert and loop cost in a sixth of the
events. `make demo` itself replays the whole night.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.scenario import DEFAULT

pytestmark = pytest.mark.infra
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("short-incident.json")


def test_demo_replays_the_incident_and_restores_exactly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.demo",
            "--scenario",
            str(SCENARIO),
            "--keep",
            str(tmp_path / "work"),
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "demo passed" in out
    assert "the nightly batch starts (100 queries planned)" in out  # the shortened night
    assert "Runaway Guardrail throttles nightly-batch" in out
    # issue 11's line: throttled within 60 s of the first looping query, the loop costing under $1
    # (10 s into the loop, its 4 queries $0.46: `acceleration`, the batch's own pace left far behind)
    after_loop = re.search(r", (\d+) s after the loop started\)", out)
    assert after_loop is not None and int(after_loop.group(1)) == 10
    loop_cost = re.search(r"of which the loop: +([\d,]+) queries, [\d.]+ TB scanned, \$([\d,.]+)", out)
    assert loop_cost is not None and (loop_cost.group(1), loop_cost.group(2)) == ("4", "0.46")
    # issue 12's shape: the guardrail at home in Tokyo stops the batch that runs in Oregon
    deployed = re.search(r"deployed (.+) with CloudFormation, home ap-northeast-1", out)
    assert deployed is not None
    assert deployed.group(1) == "RunawayGuardrailState, RunawayGuardrailService, RunawayGuardrailUsWest2"
    assert "Function:            nightly-batch (account 123456789012, us-west-2)" in out
    undo = "guardrail --region ap-northeast-1 --function-name runaway-guardrail-kill-switch restore"
    assert f"{undo} arn:aws:lambda:us-west-2:123456789012:function:nightly-batch" in out
    # the bystanders are a member account's: the operator's throttle acts through its role
    throttle = out[out.index("$ guardrail throttle report-builder payments-api") :].splitlines()
    assert throttle[0].endswith("--target-region us-west-2 --account 222222222222")
    assert throttle[2] == "   account 222222222222, region us-west-2:"
    assert throttle[3].split()[:2] == ["report-builder", "throttled"]
    assert "Detector:            athena-watch" in out
    assert '"data_regions": ["ap-northeast-1"]' in out
    assert (
        "after restore --all: {'nightly-batch': 7, 'report-builder': None, 'payments-api': None}  = before"
        in out
    )
    history = out[out.index("$ guardrail history nightly-batch --target-region us-west-2") :].splitlines()
    assert [row.split()[2:6] for row in history[3:5]] == [
        ["nightly-batch", "restore", "restored", "athena-watch"],  # the record's detector
        ["nightly-batch", "throttle", "throttled", "athena-watch"],
    ]
    assert (tmp_path / "incident-replay.png").read_bytes()[:4] == b"\x89PNG"
    assert '"kill-switch request done"' in (tmp_path / "work" / "handlers.log").read_text()


def test_the_shortened_night_is_the_demos_own_but_for_its_length():
    default, short = json.loads(DEFAULT.read_text()), json.loads(SCENARIO.read_text())
    differs = {key for key in default.keys() | short.keys() if default.get(key) != short.get(key)}
    assert differs == {"name", "description", "batchQueries", "loopMinutes"}
    assert short["batchQueries"] < default["batchQueries"] and short["loopMinutes"] < default["loopMinutes"]
