"""The guardrail deployed on the local stand-in: synthesis, deploy, Lambda runtime, event bridge, inbox."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import aws_cdk as cdk
import boto3

from devtools.deploy import deploy
from devtools.event_bridge import EventBusBridge
from devtools.inbox import drain_inbox, subscribe_inbox
from devtools.lambda_runtime import LambdaRuntime
from devtools.moto_server import ACCOUNT
from runaway_guardrail_cdk.app import build_app, cdk_json_context


@dataclass
class Deployment:
    """The deployed stacks' outputs and the runtime and bridge that run their functions."""

    session: boto3.session.Session
    outputs: dict[str, str]
    lambdas: LambdaRuntime
    bus: EventBusBridge
    inbox_url: str

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert that reached the subscribed queue since the last call (SNS envelopes)."""
        return drain_inbox(self.session, self.inbox_url)


def stand_in_layer(session: boto3.session.Session) -> str:
    """Publish a stand-in for the managed Powertools layer, which moto's account cannot see."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "python/README.txt", "Stands in for AWSLambdaPowertoolsPythonV3 on the local stand-in.\n"
        )
    response = session.client("lambda").publish_layer_version(
        LayerName="powertools-stand-in",
        Content={"ZipFile": buffer.getvalue()},
        CompatibleRuntimes=["python3.13"],
    )
    return str(response["LayerVersionArn"])


def guardrail_context(
    overrides: Mapping[str, Any], detectors: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """cdk.json's context, `overrides` on its `guardrail` key and `detectors` merged section by section."""
    context = cdk_json_context()
    merged = dict(context["guardrail"]["detectors"])
    for name, section in (detectors or {}).items():
        merged[name] = {**merged.get(name, {}), **section}
    context["guardrail"] = {**context["guardrail"], **overrides, "detectors": merged}
    return context


def synthesize(outdir: Path, overrides: Mapping[str, Any], detectors: Mapping[str, Any]) -> list[str]:
    """Synthesize the app from cdk.json with `overrides` and `detectors`; return the stacks' names."""
    app = cdk.App(outdir=str(outdir), context=guardrail_context(overrides, detectors))
    stacks = build_app(app)
    app.synth()
    return [stack.stack_name for stack in stacks]


def deploy_guardrail(
    session: boto3.session.Session, workdir: Path, detectors: Mapping[str, Any], logs: TextIO
) -> tuple[list[str], Deployment]:
    """Synthesize, deploy, subscribe a queue to the alerts, attach the Lambda runtime and event bridge."""
    layer = stand_in_layer(session)
    stacks = synthesize(workdir / "cdk.out", {"powertoolsLayerArn": layer}, detectors)
    outputs: dict[str, str] = {}
    for values in deploy(session, workdir / "cdk.out", stacks, ACCOUNT, session.region_name or "").values():
        outputs.update(values)
    lambdas = LambdaRuntime(session, logs=logs)
    lambdas.attach()
    return stacks, Deployment(
        session=session,
        outputs=outputs,
        lambdas=lambdas,
        bus=EventBusBridge(session, lambdas, account=ACCOUNT),
        inbox_url=subscribe_inbox(session, outputs["AlertTopicArn"]),
    )
