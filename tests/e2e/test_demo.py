"""`make demo` end to end: moto's server, CloudFormation deploy, kill switch, alerts, exact restore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra
ROOT = Path(__file__).resolve().parents[2]


def test_demo_deploys_and_round_trips(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, "-m", "infra.local.demo", "--keep", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "demo passed" in result.stdout
    assert (
        "restored:  {'nightly-batch': 7, 'report-builder': None, 'payments-api': None}  = before"
        in result.stdout
    )
    assert (tmp_path / "cdk.out" / "RunawayGuardrailService.template.json").exists()
    assert '"kill-switch request done"' in (tmp_path / "kill-switch.log").read_text()
