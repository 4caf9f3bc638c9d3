"""A PNG of the replay: queries and cumulative cost over time, with and without the guardrail."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from devtools.alternatives import loop_queries, query_usd
from devtools.incident import Timeline
from devtools.scenario import Scenario

BIN = timedelta(minutes=10)


def _series(
    starts: list[datetime], until: datetime, per_query: float, origin: datetime
) -> tuple[list[datetime], list[int], list[float]]:
    bins = int((until - origin) / BIN)  # whole bins only: a partial last bin would dip
    end = origin + bins * BIN
    counts = [0] * bins
    for at in starts:
        if at < end:
            counts[int((at - origin) / BIN)] += 1
    total, cumulative = 0.0, []
    for count in counts:
        total += count * per_query
        cumulative.append(total)
    return [origin + i * BIN for i in range(bins)], counts, cumulative


def write_chart(
    scenario: Scenario, timeline: Timeline, path: Path, after_loop: timedelta = timedelta(hours=3)
) -> Path:
    """Draw the replay to `path` and return it."""
    if timeline.loop_started_at is None:
        raise ValueError("the scenario has no loop to chart")
    until = timeline.loop_started_at + after_loop
    per_query = query_usd(scenario)
    legit = [q.started_at for q in timeline.planned if not q.looping]
    interval = timedelta(seconds=scenario.replay.loop_interval_seconds)
    endless = [timeline.loop_started_at + i * interval for i in range(loop_queries(scenario, after_loop))]
    times, without_q, without_usd = _series(legit + endless, until, per_query, timeline.start)
    _, with_q, with_usd = _series([q.started_at for q in timeline.issued], until, per_query, timeline.start)

    figure, (queries, cost) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    figure.suptitle(f"Replay: {scenario.name}")
    queries.step(times, without_q, where="post", color="tab:red", label="without the guardrail")
    queries.step(times, with_q, where="post", color="tab:blue", label="with the guardrail")
    queries.set_ylabel(f"queries per {int(BIN.total_seconds() // 60)} min")
    cost.plot(times, without_usd, color="tab:red", label="without the guardrail")
    cost.plot(times, with_usd, color="tab:blue", label="with the guardrail")
    cost.set_ylabel("cumulative cost (USD)")
    for axis in (queries, cost):
        axis.axvline(timeline.loop_started_at, color="grey", linestyle="--", linewidth=1)
        if timeline.throttled_at is not None:
            axis.axvline(timeline.throttled_at, color="tab:blue", linestyle=":", linewidth=1)
        axis.grid(alpha=0.3)
    queries.legend(loc="upper left")
    cost.annotate(
        "loop starts",
        (timeline.loop_started_at, 0),
        textcoords="offset points",
        xytext=(-60, 40),
        arrowprops={"arrowstyle": "->", "color": "grey"},
    )
    if timeline.throttled_at is not None:
        cost.annotate(
            f"throttled at {timeline.throttled_at:%H:%M:%S}",
            (timeline.throttled_at, with_usd[-1]),
            textcoords="offset points",
            xytext=(20, 40),
            arrowprops={"arrowstyle": "->"},
        )
    cost.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    cost.set_xlabel("event time (UTC)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
