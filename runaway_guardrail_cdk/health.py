"""Watching the watcher: alarms on the guardrail's own functions and dead letters, and a dashboard.

Every alarm notifies the alert topic (on ALARM and on OK) in CloudWatch's own message format:
- each function's `Errors` and `Throttles` above 0 in five minutes;
- the longest run of each function whose row of the function table names a duration alarm (the
  invocation scan) above 80% of its timeout (the next step is a time-out);
- each dead-letter queue holding a message.
The dashboard (named after the prefix) reads the EMF metrics the handlers publish, by the names in
`guardrail/handlers/observability.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.handlers import observability as obs

from .dead_letters import DeadLetters
from .function import GuardrailFunction

ALARM_PERIOD = Duration.minutes(5)
#: The scan's duration alarm fires at this share of its timeout.
DURATION_SHARE = 0.8
#: GetMetricData's price: USD per metric queried ($0.01 per 1,000).
USD_PER_METRIC_QUERIED = 0.01 / 1000
_HOUR = Duration.hours(1)


class GuardrailHealth(Construct):
    """Alarms on the guardrail's functions and dead-letter queues, and its CloudWatch dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        topic: sns.ITopic,
        functions: Sequence[GuardrailFunction],
        dead_letters: DeadLetters,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = config.name_prefix
        self._action = cw_actions.SnsAction(topic)
        #: Every alarm, by its name.
        self.alarms: dict[str, cw.Alarm] = {}
        for function in functions:
            name = config.function_name(function.role_name)
            self._alarm(
                f"{function.role_name}-errors",
                function.function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                f"{name} failed (an unhandled error or a time-out); see its logs",
            )
            self._alarm(
                f"{function.role_name}-throttles",
                function.function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
                f"{name} was throttled: its reserved concurrency is exhausted",
            )
        for function in functions:
            if function.spec.duration_alarm is not None:
                self._duration_alarm(function, function.spec.duration_alarm)
        for name, queue in dead_letters.queues.items():
            self._alarm(
                name,
                queue.metric_approximate_number_of_messages_visible(period=ALARM_PERIOD, statistic="Maximum"),
                f"The guardrail's {name} dead-letter queue holds messages: an event or run was lost "
                "to the guardrail; see docs/operations.md",
            )
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=config.name_prefix,
            default_interval=Duration.hours(24),
            widgets=[
                [_actions(), _held(), self._alarm_status()],
                [_events(), _dead_letters(dead_letters)],
                [_scan_cost(), _function_health(functions)],
            ],
        )

    def _duration_alarm(self, function: GuardrailFunction, what: str) -> None:
        timeout = _timeout(function)
        self._alarm(
            f"{function.role_name}-duration",
            function.function.metric_duration(period=ALARM_PERIOD, statistic="Maximum"),
            f"{what} ran longer than {DURATION_SHARE:.0%} of its {timeout.to_seconds():.0f} s timeout",
            threshold=timeout.to_milliseconds() * DURATION_SHARE,
        )

    def _alarm(self, name: str, metric: cw.IMetric, description: str, *, threshold: float = 0) -> None:
        alarm = cw.Alarm(
            self,
            "".join(part.capitalize() for part in name.split("-")),
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[f"{self._prefix}-{name}"] = alarm

    def _alarm_status(self) -> cw.AlarmStatusWidget:
        # By name, not by the alarms' Fn::GetAtt: moto's CloudFormation (`make demo`) skips alarms.
        alarms = [
            cw.Alarm.from_alarm_name(self, f"{alarm.node.id}ByName", name)
            for name, alarm in self.alarms.items()
        ]
        return cw.AlarmStatusWidget(title="Alarms", alarms=alarms, width=6)


def _metric(name: str, service: str, *, statistic: str = "Sum", period: Duration = ALARM_PERIOD) -> cw.Metric:
    return cw.Metric(
        namespace=obs.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=period,
        label=name,
    )


def _actions() -> cw.GraphWidget:
    search = (
        f"SEARCH('{{{obs.NAMESPACE},{obs.DETECTOR_DIMENSION},{obs.RESULT_DIMENSION},service}} "
        f"MetricName=\"{obs.ACTIONS}\"', 'Sum', {int(ALARM_PERIOD.to_seconds())})"
    )
    return cw.GraphWidget(
        title="Actions on functions, by detector and result",
        left=[
            cw.MathExpression(
                expression=search,
                using_metrics={},
                label=f"${{PROP('Dim.{obs.DETECTOR_DIMENSION}')}} ${{PROP('Dim.{obs.RESULT_DIMENSION}')}}",
                period=ALARM_PERIOD,
            )
        ],
        stacked=True,
        width=12,
    )


def _held() -> cw.SingleValueWidget:
    return cw.SingleValueWidget(
        title="Functions held (throttled or flagged)",
        metrics=[
            _metric(obs.FUNCTIONS_HELD, obs.INVOCATION_SCAN, statistic="Maximum", period=Duration.minutes(1))
        ],
        sparkline=True,
        width=6,
    )


def _events() -> cw.GraphWidget:
    athena = [
        obs.ATHENA_EVENTS_RECEIVED,
        obs.ATHENA_EVENTS_REJECTED,
        obs.ATHENA_EVENTS_FAILED,
        obs.ATHENA_UNKNOWN_QUERIES,
        obs.ATHENA_DUPLICATE_DELIVERIES,
    ]
    recursion = [obs.RECURSION_SIGNALS_RECEIVED, obs.RECURSION_SIGNALS_REJECTED]
    return cw.GraphWidget(
        title="Events received and rejected",
        left=[_metric(name, obs.ATHENA_WATCH) for name in athena]
        + [_metric(name, obs.RECURSION_WATCH) for name in recursion],
        width=12,
    )


def _dead_letters(dead_letters: DeadLetters) -> cw.GraphWidget:
    return cw.GraphWidget(
        title="Dead letters (messages waiting)",
        left=[
            queue.metric_approximate_number_of_messages_visible(
                period=ALARM_PERIOD, statistic="Maximum", label=name
            )
            for name, queue in dead_letters.queues.items()
        ],
        width=12,
    )


def _scan_cost() -> cw.GraphWidget:
    queried = _metric(obs.SCAN_METRICS_QUERIED, obs.INVOCATION_SCAN, period=_HOUR)
    return cw.GraphWidget(
        title="Invocation scan: GetMetricData per hour",
        left=[_metric(obs.SCAN_GET_METRIC_DATA_CALLS, obs.INVOCATION_SCAN, period=_HOUR), queried],
        right=[
            cw.MathExpression(
                expression=f"queried * {USD_PER_METRIC_QUERIED:.5f}",  # not 1e-05: `e` reads as a metric
                using_metrics={"queried": queried},
                label="USD per hour",
                period=_HOUR,
            )
        ],
        width=12,
    )


def _timeout(function: GuardrailFunction) -> Duration:
    return function.function.timeout or Duration.seconds(3)


def _function_health(functions: Sequence[GuardrailFunction]) -> cw.GraphWidget:
    [scan] = [function for function in functions if function.spec.duration_alarm]  # the table names one
    timeout = _timeout(scan)
    left: list[cw.IMetric] = []
    for function in functions:
        left.append(
            function.function.metric_errors(period=ALARM_PERIOD, label=f"{function.role_name} errors")
        )
        left.append(
            function.function.metric_throttles(period=ALARM_PERIOD, label=f"{function.role_name} throttles")
        )
    return cw.GraphWidget(
        title="Guardrail functions: errors, throttles; the scan's longest run (ms)",
        left=left,
        right=[scan.function.metric_duration(period=ALARM_PERIOD, statistic="Maximum", label="scan ms")],
        right_annotations=[
            cw.HorizontalAnnotation(value=timeout.to_milliseconds() * DURATION_SHARE, label="alarm")
        ],
        width=12,
    )
