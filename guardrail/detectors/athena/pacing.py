"""Cost-paced evidence: how much a loop signature waits for, from what the caller's queries cost.

A signature gathers evidence while the loop it suspects runs and spends: starts seen close together
(`acceleration`), minutes past a run's usual end (`overrun`). The evidence it asks for is what the
caller's own queries let it buy for `EVIDENCE_USD`: a caller whose queries are dear is judged on less
evidence, a cheap one on more, within bounds that keep a legitimate caller safe whatever its queries
cost (never fewer than `FEWEST_STARTS` starts, never less than `SHORTEST_MARGIN_MINUTES` past its
usual end, and only on `FEWEST_MINUTES_PAST_END` active minutes past it). With the evidence bought
for `EVIDENCE_USD`, a loop whose starts reach the watch at once (the guard's) is stopped before it
spends `LOOP_BUDGET_USD`, the other half being what it runs while the stop lands.

What a query costs is the caller's mean over the last 24 hours (scans and transfer, as booked): zero
while none of its queries has cost anything (failed, DDL, not finished yet), and then nothing is paced:
the signatures ask for the unpaced evidence (`FEWEST_STARTS`; `overrun`'s grace). Pure: no AWS, no clock.
"""

from __future__ import annotations

import math

from guardrail.detectors.athena.cost import MICROS_PER_USD

#: What a loop may spend, from its first query, before it is stopped when its starts reach the watch
#: within a second (the guard's query starts): the evidence, and as much again for the stop to land.
LOOP_BUDGET_USD = 1.0
#: What a signature's evidence may let a loop spend.
EVIDENCE_USD = LOOP_BUDGET_USD / 2
#: The fewest starts `acceleration` reads a pace from: CloudTrail (20-75 s late) has delivered about 5
#: of a 3 s loop's starts 60 s in; 3 would be any small fan-out.
FEWEST_STARTS = 4
#: The most it asks of a cheap caller: 12 starts of a 5-minute window are a pace, not a burst.
MOST_STARTS = 12
#: The fewest starts the day's earlier hours must hold (those with a pace noted) for their busiest pace
#: to be compared with: three times the most a pace is read from. The busiest run of a few random starts
#: is close to their mean pace, so a random cluster of a steady caller beats it five times over: of
#: cheap callers (12 starts read) with random (Poisson) starts whose pace doubles for an hour, 20% were
#: taken for a loop when 6 starts were noted before it, 2% with 12, none of 2,000 with 32 (a brand-new
#: deployment's first minutes before the office hours' jump noted 5 to 15 of each caller's starts).
FEWEST_EARLIER_STARTS = 3 * MOST_STARTS
#: `overrun`'s paced margin past the longest learned run: at least 10 minutes, whatever the run costs
#: (a night's last queries can come late), at most an hour (a run an hour past its longest is no late night).
SHORTEST_MARGIN_MINUTES = 10.0
LONGEST_MARGIN_MINUTES = 60.0
#: The active minutes a run needs past its usual length before `overrun` speaks: one late query is not
#: a run going on.
FEWEST_MINUTES_PAST_END = 3


def usd_per_query(cost_micros: int, queries: int) -> float:
    """A caller's mean cost per query (dollars) from its day's totals; 0.0 when nothing is known."""
    if queries <= 0 or cost_micros <= 0:
        return 0.0
    return cost_micros / queries / MICROS_PER_USD


def starts_needed(usd_each: float) -> int:
    """The starts `acceleration` reads a pace from: as many as `EVIDENCE_USD` buys, in bounds.

    Unpaced (`FEWEST_STARTS`) while the caller's queries have cost nothing known.
    """
    if usd_each <= 0:
        return FEWEST_STARTS
    return max(FEWEST_STARTS, math.floor(min(float(MOST_STARTS), EVIDENCE_USD / usd_each)))


def paced_margin_minutes(usd_per_minute: float) -> float | None:
    """The minutes past its usual end that `EVIDENCE_USD` buys of a run spending `usd_per_minute`.

    Within `SHORTEST_MARGIN_MINUTES` and `LONGEST_MARGIN_MINUTES`; None (unpaced) at no known cost.
    """
    if usd_per_minute <= 0:
        return None
    return max(SHORTEST_MARGIN_MINUTES, min(LONGEST_MARGIN_MINUTES, EVIDENCE_USD / usd_per_minute))
