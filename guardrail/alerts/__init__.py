"""SNS alerts: one message per action, readable text for people and JSON for machines."""

from guardrail.alerts.render import Alert, AlertEvent, EventType, render

__all__ = ["Alert", "AlertEvent", "EventType", "render"]
