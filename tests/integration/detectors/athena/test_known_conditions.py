"""A recurring cross-region read through the handler: told once in full, then only in the daily digest.

The replay's batch reads `sales.orders`, stored in ap-northeast-1, into Athena in another region: a
condition that needs a decision once (is this read meant?), and then recurs every night.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from devtools.deploy import create_bucket
from devtools.replay import IncidentReplay
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.handlers import athena_watch
from guardrail.handlers.composition import build_watch
from tests.conftest import REGION

#: Two nights (the one before and the replay's own) of three queries, none of them looping.
NIGHTS = IncidentReplay(batch_queries=3, loop_minutes=0, history_nights=1)
CONDITION = f"cross-region read of sales.orders (ap-northeast-1) into Athena in {REGION}"


def feed(watched, deliveries) -> None:
    for delivery in deliveries:
        watched.deployed.clock.now = delivery.deliver_at
        watched.deliver(delivery.event)


def documents(watched) -> list[dict]:
    return [alert["Document"] for alert in watched.deployed.alerts()]


def another_container(watched, monkeypatch) -> None:
    """The handler's next invocations run in a new container: its own watch, nothing remembered."""
    settings = watched.deployed.configured(detectors={"athena-watch": {}})
    watch = build_watch(
        settings,
        session=watched.deployed.session,
        clock=watched.deployed.clock,
        queries=AthenaQueries(boto3_client=watched.athena),
    )
    monkeypatch.setattr(
        athena_watch, "_watch", (watch, settings.home.layer_arn(settings.config.guard_layer_name))
    )


def test_the_same_read_on_two_nights_is_told_once_then_counted_in_one_digest_a_day(watch_replay, monkeypatch):
    watched = watch_replay(NIGHTS, {})
    first_night = NIGHTS.start - timedelta(days=1)
    feed(watched, [d for d in watched.replay.deliveries() if d.deliver_at < NIGHTS.start])
    [told] = documents(watched)
    assert (told["event_type"], told["evidence"]["rules"]) == ("alerted", "cross-region")
    results = [a["result"] for r in watched.reports for a in r["actions"]]
    assert results == ["alerted", "digested", "digested"]  # each finish; a start only repeats it

    feed(watched, [d for d in watched.replay.deliveries() if d.deliver_at >= NIGHTS.start])
    [digest] = documents(watched)  # the second night: nothing told in full, the first night's digest
    assert (digest["event_type"], digest["day"]) == ("digest", f"{first_night:%Y-%m-%d}")
    [entry] = digest["conditions"]
    assert (entry["condition"], entry["count"], entry["subject"]) == (CONDITION, 2, told["subject"])
    assert entry["size_bytes"] == 2 * NIGHTS.scanned_bytes
    assert [a["result"] for a in watched.reports[-1]["actions"]] in ([], ["digested"])

    # the day after the second night: its digest goes out with the first delivery, once however often
    # the trigger is delivered (a duplicate of the last event, twice)
    last = watched.replay.deliveries()[-1]
    watched.deployed.clock.now = NIGHTS.start + timedelta(days=1, minutes=1)
    for _ in range(3):
        assert watched.deliver(last.event)["status"] == "duplicate"
    [second] = documents(watched)
    assert (second["event_type"], second["day"]) == ("digest", f"{NIGHTS.start:%Y-%m-%d}")
    assert second["conditions"][0]["count"] == 3
    another_container(watched, monkeypatch)  # a concurrent container finds the day claimed
    assert watched.deliver(last.event)["status"] == "duplicate"
    assert documents(watched) == []


def test_a_read_of_another_table_is_told_in_full(watch_replay):
    watched = watch_replay(NIGHTS, {})
    feed(watched, [d for d in watched.replay.deliveries() if d.deliver_at < NIGHTS.start])
    assert [d["event_type"] for d in documents(watched)] == ["alerted"]

    refunds = replace(
        watched.replay, remote_table="refunds", remote_bucket="sales-refunds-tokyo", seed=5, history_nights=0
    )
    create_bucket(watched.deployed.session, refunds.remote_bucket, refunds.data_region)
    watched.deployed.session.client("glue").create_table(
        DatabaseName=refunds.database,
        TableInput={
            "Name": "refunds",
            "StorageDescriptor": {"Location": f"s3://{refunds.remote_bucket}/refunds/"},
        },
    )
    watched.athena.also(refunds)
    feed(watched, refunds.deliveries())
    sent = documents(watched)  # the night before's digest, and the new table's first read in full
    assert sorted(d["event_type"] for d in sent) == ["alerted", "digest"]
    [told] = [d for d in sent if d["event_type"] == "alerted"]
    assert told["evidence"]["rules"] == "cross-region"
    assert [a["result"] for r in watched.reports[-len(refunds.deliveries()) :] for a in r["actions"]] == [
        "alerted",
        "digested",
        "digested",
    ]


def test_a_start_handled_by_another_container_than_its_finish_still_tells_the_read(watch_replay, monkeypatch):
    watched = watch_replay(IncidentReplay(batch_queries=1, loop_minutes=0), {})
    [query] = watched.replay.night_queries()
    assert watched.deliver(watched.replay.finish_event(query))["actions"] == []  # no caller known yet
    another_container(watched, monkeypatch)  # it kept nothing: it reads the record and asks Athena
    report = watched.deliver(watched.replay.start_event(query))
    assert [(a["rules"], a["result"]) for a in report["actions"]] == [("cross-region", "alerted")]
    [told] = documents(watched)
    assert told["evidence"]["cross_region"]["data_regions"] == ["ap-northeast-1"]
