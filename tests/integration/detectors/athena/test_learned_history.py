"""The learning nights written in one batch leave what replaying them through the handler leaves.

`devtools.history` computes the nights' hour buckets and baselines with the watch's own booking and
folding, instead of delivering ~2,800 events through moto's DynamoDB. Here two short nights are
replayed both ways into the same moto table (emptied in between), and every read the incident's night
makes of them is compared: each scope's baseline, its 24-hour totals and its recent hours.
"""

from __future__ import annotations

import pytest

from devtools.history import learned_items, write_items
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.booking import caller_scope
from tests.integration.detectors.athena.learned_reads import CALLER, NIGHTS, empty, reads


@pytest.mark.slow  # two nights replayed event by event
def test_learning_nights_written_in_a_batch_read_as_if_replayed(watch_replay, deployed):
    watched = watch_replay(NIGHTS, {})
    for delivery in watched.replay.deliveries():
        if delivery.query.started_at >= NIGHTS.start:
            continue  # the incident's night: not learned
        watched.deployed.clock.now = delivery.deliver_at
        assert "error" not in watched.deliver(delivery.event)
    replayed = reads(deployed, watched.replay)
    assert replayed[f"{caller_scope(CALLER)} totals 90"].day_queries > 0  # the nights are in the table

    empty(deployed)
    calls = write_items(
        deployed.session, deployed.settings.ledger_table, learned_items(watched.replay, AthenaWatchConfig())
    )
    assert calls == 1  # two scopes' baselines and hour buckets: one BatchWriteItem
    assert reads(deployed, watched.replay) == replayed
