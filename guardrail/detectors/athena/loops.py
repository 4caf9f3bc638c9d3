"""The loop signatures of one scope at one moment, as breaches: what is read from the store, and why.

The signatures themselves are pure (`signatures`); this reads what they need through the
`BaselineStore` port: the scope's baseline (folded as it is read), its recent hours, and the runs of
the statement the event is about. `acceleration` reads only the window's totals, so a scope without a
learned baseline costs no more reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from guardrail.config.athena_watch import Baselines, Signature
from guardrail.detectors.athena.baseline import learned
from guardrail.detectors.athena.detect import Breach, Totals
from guardrail.detectors.athena.fingerprint import fingerprint
from guardrail.detectors.athena.ports import BaselineStore
from guardrail.detectors.athena.signatures import Now, signals


def loop_breaches(
    store: BaselineStore,
    config: Baselines,
    scope: str,
    at: datetime,
    totals: Totals,
    *,
    window_minutes: int,
    sql: str = "",
    may_throttle: bool = True,
) -> list[Breach]:
    """The signatures `scope` matches at `at`; each enforces if configured to and `may_throttle`."""
    if not config.enabled:
        return []
    baseline = store.baseline(scope, at)
    now = Now(
        at=at,
        window_queries=totals.window_queries,
        window_minutes=window_minutes,
        starts=totals.starts,
        earlier_pace=totals.earlier_pace,
    )
    if learned(baseline, at, config):  # otherwise acceleration alone (and no more reads)
        statement = fingerprint(sql) if sql else None
        now = replace(
            now,
            recent_hours=store.recent_hours(scope, at),
            fingerprint=statement,
            fingerprint_runs=0 if statement is None else store.statement_runs(scope, at, statement),
        )
    return [
        Breach(
            signal.signature,
            signal.reason,
            enforce=may_throttle and signal.signature in config.throttle_on,
            baseline=signal.baseline,
        )
        for signal in signals(baseline, now, config)
        if may_throttle or signal.signature is not Signature.OVERRUN  # a run is a Lambda caller's
    ]
