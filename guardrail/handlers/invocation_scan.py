"""Invocation-scan Lambda handler: fired by `rate(1 minute)`, enforces what the scan finds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError, field_validator

from guardrail.config import Settings
from guardrail.config.invocation_scan import DETECTOR
from guardrail.detectors.invocation_scan import InvocationScan
from guardrail.detectors.invocation_scan.scan import ScanReport
from guardrail.domain import ActionRecord, Notice, TargetKind
from guardrail.enforcement.reconcile import reconcile
from guardrail.errors import AwsCallFailed, GuardrailError
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_scan, session_for
from guardrail.kill_switch.service import DETECTOR as KILL_SWITCH

logger = obs.function_logger()
metrics = obs.function_metrics(obs.INVOCATION_SCAN)


class ScheduledEvent(EventBridgeModel):
    """The schedule's event: its time is the minute to scan, after a baseline of up to a day."""

    @field_validator("source")
    @classmethod
    def _from_eventbridge(cls, value: str) -> str:
        if value != "aws.events":
            raise ValueError("a schedule's event comes from aws.events")
        return value

    @field_validator("detail_type")
    @classmethod
    def _scheduled(cls, value: str) -> str:
        if value != "Scheduled Event":
            raise ValueError("a schedule's event is a Scheduled Event")
        return value

    @field_validator("time")
    @classmethod
    def _window_fits(cls, value: datetime) -> datetime:
        if not 1 < value.year < 9999:
            raise ValueError("a time before the year 2 or after 9998 leaves no room for the scan's window")
        return value


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Scan the minute the schedule fired for, throttle every runaway found, reconcile what is held.

    Also sends the previous day's digest of known conditions, once, if no Athena delivery has: an account
    quiet after midnight gets it within a minute.
    """
    try:
        scheduled: ScheduledEvent = parse(event=event, model=ScheduledEvent)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors()[:5]]
        logger.warning("rejected scan event", extra={"problems": problems})
        return {"ok": False, "error": "not a scheduled EventBridge event: " + "; ".join(problems)}
    settings = Settings.from_env()
    usage = obs.MetricDataUsage()
    scans, enforcer = build_scan(settings, session=session_for(settings), attach=usage.attach)
    reports, failed = _run_each(scans, scheduled.time)
    for scan, report in zip(scans, reports, strict=True):
        if report.capped:
            enforcer.notify(_capped(scan, report, scheduled.time, settings))
    findings = [finding for report in reports for finding in report.findings]
    outcomes = [enforcer.enforce(finding) for finding in findings]
    obs.count_outcomes(
        obs.INVOCATION_SCAN, [(f.detector, o.result) for f, o in zip(findings, outcomes, strict=True)]
    )
    reconciled = reconcile(enforcer, scheduled.time, loop_running=_judge(scans, scheduled.time, settings))
    obs.count_outcomes(obs.INVOCATION_SCAN, [("reconcile", o.result) for o in reconciled])
    enforcer.send_digest()  # the first run after a day ends sends its digest, once, if nothing else did
    metrics.add_metric(name=obs.SCAN_GET_METRIC_DATA_CALLS, unit=MetricUnit.Count, value=usage.calls)
    metrics.add_metric(name=obs.SCAN_METRICS_QUERIED, unit=MetricUnit.Count, value=usage.metrics)
    if scheduled.time.minute % obs.HELD_EVERY_MINUTES == 0:
        metrics.add_metric(name=obs.FUNCTIONS_HELD, unit=MetricUnit.Count, value=len(enforcer.active()))
    results = [outcome.to_dict() for outcome in [*outcomes, *reconciled]]
    why = "; ".join(
        f"{scan.region}: {report.why}" if len(scans) > 1 else report.why
        for scan, report in zip(scans, reports, strict=True)
    )
    scanned = sum(report.functions_scanned for report in reports)
    logger.info("invocation scan done", extra={"why": why, "functions_scanned": scanned, "results": results})
    if failed:  # after the other regions' findings were enforced: the function's errors alarm
        raise ScanFailed("; ".join(failed))
    drilled_down = any(report.drilled_down for report in reports)
    return {"ok": True, "drilled_down": drilled_down, "why": why, "results": results}


def _judge(scans: list[InvocationScan], at: datetime, settings: Settings) -> Callable[[ActionRecord], bool]:
    """Whether the loop behind a held record still runs, for the reconciliation.

    Only a function this scan watches, held by an automatic detector, is judged from its metrics; an
    operator's throttle, another account's function and a metric that cannot be read count as running
    (stopped again on drift, as before).
    """
    by_region = {scan.region: scan for scan in scans}

    def running(record: ActionRecord) -> bool:
        target = record.target
        scan = by_region.get(target.region or settings.region)
        if record.detector == KILL_SWITCH or target.kind is not TargetKind.FUNCTION or scan is None:
            return True
        if target.account and target.account != settings.account:
            return True
        try:
            return scan.loop_running(target.name, at)
        except AwsCallFailed:
            logger.exception("could not tell whether %s still loops", target.name)
            return True

    return running


def _capped(scan: InvocationScan, report: ScanReport, at: datetime, settings: Settings) -> Notice:
    """The notice, once per region and hour, that a rise went unexamined (blind till the hour ends)."""
    region = scan.region or settings.region
    return Notice(
        subject=f"invocation scan ({region})",
        detector=DETECTOR,
        reason=(
            f"{report.why}. The account's invocations rose where no watched function explains it, and the"
            " hour's per-function drill-downs are spent: until the next hour a runaway may run unseen by the"
            " scan (the recursion guard, Lambda's drops and the Athena watch still act). Look at the"
            " account's Lambda invocations, or raise maxDrillDownsPerHour."
        ),
        observed_at=at,
        dedupe_key=f"{DETECTOR}:capped:{region}:{at:%Y-%m-%dT%H}",
        account=settings.account,
        region=region,
    )


class ScanFailed(GuardrailError):
    """A watched region could not be scanned (the others were)."""


def _run_each(scans: list[InvocationScan], at: datetime) -> tuple[list[ScanReport], list[str]]:
    """Every region's scan; one region's AWS failure is reported, and never stops the others."""
    reports, failed = [], []
    for scan in scans:
        try:
            reports.append(scan.run(at))
        except AwsCallFailed as exc:
            logger.exception("invocation scan of %s failed", scan.region)
            failed.append(f"{scan.region}: {exc}")
            reports.append(ScanReport([], drilled_down=False, why=f"not scanned: {exc}"))
    return reports, failed
