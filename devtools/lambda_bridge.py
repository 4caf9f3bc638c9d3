"""Runs deployed functions' handlers in-process when boto3 invokes them.

moto stores Lambda functions but cannot run their code (it needs Docker). The bridge reads the
function's configuration as deployed (handler and environment) and calls that handler here, so
that the code under test is the code the stack deploys, configured the way the stack configures it.
"""

from __future__ import annotations

import importlib
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass
from typing import Any, TextIO

import boto3
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that powertools reads."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128


@contextmanager
def function_environment(variables: dict[str, str]) -> Iterator[None]:
    """Set a deployed function's environment for the duration of one invocation."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LambdaBridge:
    """Answers `lambda.Invoke` on a boto3 session by running the deployed handler in-process."""

    def __init__(self, session: boto3.session.Session, *, logs: TextIO | None = None) -> None:
        self._session = session
        self._logs = logs
        self._lambda = session.client("lambda")
        self.invocations: list[tuple[str, Any]] = []
        self._configs: dict[str, dict[str, Any]] = {}

    def attach(self) -> None:
        """Route every Invoke made through the session to the bridge."""
        self._session.events.register("before-parameter-build.lambda.Invoke", self._remember)
        self._session.events.register("before-call.lambda.Invoke", self._invoke)

    def run(self, function_name: str, event: Any) -> Any:
        """Run the function's deployed handler with its deployed environment."""
        return self._run(self._configuration(function_name), event)

    def _configuration(self, function_name: str) -> dict[str, Any]:
        """The function's deployed configuration (read once: a deployment does not change it)."""
        if function_name not in self._configs:
            self._configs[function_name] = dict(
                self._lambda.get_function_configuration(FunctionName=function_name)
            )
        return self._configs[function_name]

    def _run(self, config: dict[str, Any], event: Any) -> Any:
        module_name, _, attribute = config["Handler"].rpartition(".")
        with redirect_stdout(self._logs) if self._logs else nullcontext():  # loggers bind stdout at import
            handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        variables["AWS_REGION"] = self._session.region_name or "us-east-1"
        context = LambdaContext(
            config["FunctionName"], config["FunctionArn"], f"local-{len(self.invocations)}"
        )
        self.invocations.append((config["FunctionName"], event))
        with function_environment(variables), redirect_stdout(self._logs) if self._logs else nullcontext():
            return handler(event, context)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bridge_params"] = dict(params)

    def _invoke(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["bridge_params"]
        payload = params.get("Payload") or b"{}"
        event = json.loads(payload if isinstance(payload, (bytes, str)) else payload.read())
        config = self._lambda.get_function_configuration(
            FunctionName=params["FunctionName"]
        )  # may raise as AWS
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            body = json.dumps(self._run(config, event)).encode()
        except Exception as exc:
            body = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
            parsed["FunctionError"] = "Unhandled"
        parsed["Payload"] = StreamingBody(io.BytesIO(body), len(body))
        return AWSResponse("local://lambda", 200, {}, None), parsed
