"""SNS alerts: one message per action or notice, readable text for people and JSON for machines."""

from guardrail.alerts.events import AlertEvent, Phase
from guardrail.alerts.render import Alert, render, render_notice

__all__ = ["Alert", "AlertEvent", "Phase", "render", "render_notice"]
