"""Acceleration on a brand-new deployment's first day (issue 22's leftover): steady callers, real loops.

A caller is watched from the deployment on, as `AthenaWatch` does it: at each start it books, the
rule reads the window's starts against the busiest pace noted on the day's earlier hours, and the
window's densest run is noted on the hour when it broke no rule (`AthenaWatch._note_pace`). Nothing is
learned beforehand.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import HOUR, hour_of
from guardrail.detectors.athena.pacing import FEWEST_EARLIER_STARTS
from guardrail.detectors.athena.signatures import Now, Signal, acceleration, densest

CONFIG = Baselines()
WINDOW = timedelta(minutes=5)
DAY0 = datetime(2026, 10, 15, tzinfo=UTC)
OFFICE = DAY0 + 8 * HOUR
#: The busy bench's caller (`devtools/bench_busy.py`): 3,333 queries a day, twice as dense from 08:00,
#: so 92.6 an hour at night; 0.1-1 GB a query, so 12 starts read of it (`pacing.starts_needed`).
NIGHT_PER_SECOND = 3_333 / 36 / 3600
USD_PER_QUERY = 0.0027


def watched(starts: Iterable[datetime], usd_per_query: float = USD_PER_QUERY) -> list[Signal]:
    """What `acceleration` says at each of a caller's starts (in order), from the deployment on."""
    booked: list[datetime] = []
    noted: dict[datetime, int] = {}  # an hour's busiest pace
    per_hour: Counter[datetime] = Counter()  # its starts (the hour bucket's queries)
    found = []
    for at in starts:
        booked.append(at)
        hour = hour_of(at)
        per_hour[hour] += 1
        window = [s for s in booked if s >= at.replace(second=0) - WINDOW + timedelta(minutes=1)]
        earlier = {h: pace for h, pace in noted.items() if h < hour}
        now = Now(
            at=at,
            window_queries=len(window),
            window_minutes=5,
            starts=window,
            earlier_pace=max(earlier.values(), default=0),
            earlier_starts=sum(per_hour[h] for h in earlier),
            usd_per_query=usd_per_query,
        )
        if (signal := acceleration(now, CONFIG)) is not None:
            found.append(signal)
            continue
        pace = densest(window)
        if pace is not None and pace.per_hour > noted.get(hour, 0):
            noted[hour] = pace.per_hour
    return found


def poisson(seed: int, first: datetime, last: datetime) -> list[datetime]:
    """Random starts (to the second, distinct) at the night's pace, twice it from 08:00."""
    rng = random.Random(seed)  # noqa: S311 - seeded traffic, not security
    out, at = [], first
    while (
        at := at + timedelta(seconds=rng.expovariate(NIGHT_PER_SECOND * (2 if at >= OFFICE else 1)))
    ) < last:
        second = at.replace(microsecond=0)
        if not out or second > out[-1]:
            out.append(second)
    return out


def test_steady_random_callers_deployed_minutes_before_their_busy_morning_are_never_taken_for_loops():
    # deployed at 07:50 and 07:57: the night's last minutes noted 5-15 starts of each caller, whose
    # busiest run of four is not yet its pace; the office hours' twice as dense starts then cluster at
    # random, 12 within 80-110 s, over the floor of 6 a minute (seen in the busy bench's traffic)
    found = {
        (minute, seed): signals
        for minute in (50, 57)
        for seed in range(40)
        if (
            signals := watched(
                poisson(seed, DAY0 + 7 * HOUR + minute * timedelta(minutes=1), DAY0 + 10 * HOUR)
            )
        )
    }
    assert found == {}


def batch_then_loop(deployed: datetime, every: float) -> list[datetime]:
    """A batch from 00:00, one query every 40 s, seen from `deployed`; at 01:20 a loop every `every` s."""
    batch = [DAY0 + timedelta(seconds=40 * n) for n in range(120)]
    loop = [DAY0 + 80 * timedelta(minutes=1) + timedelta(seconds=round(every * n)) for n in range(40)]
    return [at for at in [*batch, *loop] if at >= deployed]


def test_a_loop_on_the_first_day_is_caught_on_its_fourth_start_after_one_noted_hour():
    for every in (2.0, 3.0):
        # deployed at midnight: one earlier hour noted, 90 starts of the batch at 1.5 a minute
        found = watched(batch_then_loop(DAY0, every), usd_per_query=0.114)
        assert found, every
        evidence = found[0].baseline
        assert evidence["first_started_at"] == (DAY0 + 80 * timedelta(minutes=1)).isoformat()
        assert evidence["queries"] == 4
        assert (evidence["within_seconds"], evidence["earlier_hours_starts"]) == (round(3 * every), 90)
        assert evidence["busiest_per_minute_earlier_hours"] == 1.5
        assert "1.5 a minute, read from their 90 starts; allowed 7.5" in found[0].reason


def test_a_loop_after_too_few_noted_starts_is_left_to_the_fixed_limits():
    # deployed at 00:50: the batch's hour 00 noted only 15 of its starts, so no pace to compare with
    assert watched(batch_then_loop(DAY0 + 50 * timedelta(minutes=1), 2.0), usd_per_query=0.114) == []
    # the batch's hour 00 holds its starts 0-89: seen from its 54th on, 36 of them, the pace counts
    enough = watched(batch_then_loop(DAY0 + timedelta(seconds=40 * 54), 2.0), usd_per_query=0.114)
    assert [s.baseline["earlier_hours_starts"] for s in enough[:1]] == [FEWEST_EARLIER_STARTS]
    assert watched(batch_then_loop(DAY0 + timedelta(seconds=40 * 55), 2.0), usd_per_query=0.114) == []
