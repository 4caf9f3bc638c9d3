"""Detectors: pure logic that turns events and metric samples into findings; they never call AWS.

`DETECTORS` lists every detector in one place, by the name its findings carry (`Finding.detector`):
its configuration section (a model of `guardrail.config`, or None when it has no settings), the Lambda
handler that runs it, and what it catches. A new detector is added here, with its module or package
beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from guardrail.config.athena_watch import DETECTOR as ATHENA_WATCH
from guardrail.config.athena_watch import AthenaWatchConfig
from guardrail.config.base import StrictModel
from guardrail.config.invocation_scan import DETECTOR as INVOCATION_SCAN
from guardrail.config.invocation_scan import InvocationScanConfig


@dataclass(frozen=True)
class Detector:
    """One detector: the name its findings carry, its config section, its handler, what it catches."""

    name: str
    #: Its section under cdk.json's `guardrail.detectors` (keyed by `name`), or None.
    config: type[StrictModel] | None
    #: The Lambda handler that runs it, as the function's `handler` setting names it.
    handler: str
    description: str


DETECTORS: Mapping[str, Detector] = {
    detector.name: detector
    for detector in (
        Detector(
            "recursion-guard",
            None,
            "guardrail.handlers.recursion_watch.handler",
            "A function's recursion guard refused a chain that went too deep (guardrail.recursion).",
        ),
        Detector(
            "aws-recursive-loop",
            None,
            "guardrail.handlers.recursion_watch.handler",
            "AWS stopped a recursive loop: a Health notice or a RecursiveInvocationsDropped alarm.",
        ),
        Detector(
            INVOCATION_SCAN,
            InvocationScanConfig,
            "guardrail.handlers.invocation_scan.handler",
            "A function's invocation rate ran away, whether it uses the recursion guard or not.",
        ),
        Detector(
            ATHENA_WATCH,
            AthenaWatchConfig,
            "guardrail.handlers.athena_watch.handler",
            "Athena query rates, scanned bytes or cross-region reads over their limits.",
        ),
    )
}
