import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devtools.alternatives import budget_stop, compare, loop_queries, query_usd
from devtools.chart import write_chart
from devtools.incident import Timeline, first_breach
from devtools.scenario import DEFAULT, Scenario
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.cost import GB
from guardrail.errors import ConfigError


def test_the_default_scenario_is_the_incident():
    scenario = Scenario.load(DEFAULT)
    replay = scenario.replay
    assert (replay.batch_queries, replay.athena_region, replay.data_region) == (
        672,
        "us-west-2",
        "ap-northeast-1",
    )
    assert replay.scanned_bytes == int(1.2 * GB)
    assert replay.start == datetime(2026, 11, 28, tzinfo=UTC)
    assert scenario.reserved_concurrency == 7
    assert scenario.watch_config.caller.max_queries_per_window == 60
    # the incident's shape: the guardrail at home in Tokyo, Athena and the batch in Oregon
    assert (scenario.home_region, scenario.watched_regions, replay.account) == (
        "ap-northeast-1",
        ("us-west-2",),
        "123456789012",
    )
    assert scenario.member_accounts == ("222222222222", "333333333333")  # three accounts on the stand-in


def test_a_scenario_places_the_batch_in_a_member_account():
    scenario = Scenario.load(DEFAULT.parent / "member-account.json")
    assert scenario.replay.account == "222222222222"
    assert scenario.member_accounts == ("222222222222", "333333333333")
    assert Scenario.parse({"homeRegion": "us-west-2"}).watched_regions == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batchQueries": "many"}, "batchQueries: expected a whole number, got 'many'"),
        ({"account": "2222"}, "account: '2222' is not a 12-digit AWS account id"),
        ({"homeRegion": "tokyo"}, "homeRegion: 'tokyo' is not an AWS region name (us-west-2)"),
        (
            {"account": "444444444444"},
            "account: 444444444444 is neither the guardrail's own nor in memberAccounts",
        ),
        ({"memberAccounts": ["123456789012"]}, "memberAccounts: 123456789012 is the guardrail's own account"),
        ({"batchQueries": -1}, "batchQueries: Input should be greater than or equal to 0"),
        ({"loopMinutes": True}, "loopMinutes: expected a number, got True"),
        ({"loopIntervalSeconds": 0}, "loopIntervalSeconds: Input should be greater than 0"),
        ({"reservedConcurrency": -1}, "reservedConcurrency: Input should be greater than or equal to 0"),
        ({"trailLagSeconds": [5]}, "trailLagSeconds: expected [min, max] seconds, got [5]"),
        ({"stateLagSeconds": [5, 1]}, "stateLagSeconds: expected 0 <= min <= max"),
        ({"stateLagSeconds": [0, "5"]}, "stateLagSeconds[1]: expected a number, got '5'"),
        ({"start": "yesterday"}, "start: "),
        ({"start": "2026-11-28T00:00:00"}, "start: Input should have timezone info"),
        ({"surprise": 1}, "unknown keys surprise (known: account, athenaRegion, athenaWatch, "),
        (
            {"athenaWatch": {"windowMinutes": 0}},
            "athenaWatch.windowMinutes: Input should be greater than or equal",
        ),
        ({"athenaWatch": {"caller": {"maxQueries": 5}}}, "athenaWatch.caller: unknown keys maxQueries"),
        ({"compare": {"budgetCadenceHours": [8, "x"]}}, "compare.budgetCadenceHours[1]: expected a number"),
    ],
)
def test_a_malformed_scenario_names_its_key(tmp_path, change, message):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({**json.loads(DEFAULT.read_text()), **change}))
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: {re.escape(message)}"):
        Scenario.load(path)


def test_an_unreadable_scenario_is_a_config_error(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        Scenario.load(path)
    with pytest.raises(ConfigError, match="No such file"):
        Scenario.load(tmp_path / "missing.json")


def test_the_athena_watch_section_is_deployed_as_validated():
    scenario = Scenario.parse({"athenaWatch": {"caller": {"maxQueriesPerWindow": 30}}})
    assert scenario.replay == Scenario.parse({}).replay  # every left-out key is the incident's
    section = scenario.athena_watch
    assert section["caller"]["maxQueriesPerWindow"] == 30
    assert AthenaWatchConfig.parse(section) == scenario.watch_config


def test_first_breach_is_the_first_start_over_the_window_limit():
    scenario = Scenario.load(DEFAULT)
    breach = first_breach(scenario.replay, scenario.watch_config)
    loop_start = next(q for q in scenario.replay.queries() if q.looping).started_at
    # 60 queries are allowed in 5 minutes; the loop issues one every 3 s on top of the batch's pace
    assert loop_start < breach < loop_start + timedelta(minutes=5)
    quiet = Scenario.parse({**json.loads(DEFAULT.read_text()), "loopMinutes": 0})
    assert first_breach(quiet.replay, quiet.watch_config) is None


def _timeline(scenario: Scenario, stop_after: timedelta | None) -> Timeline:
    planned = scenario.replay.night_queries()
    loop_start = next(q.started_at for q in planned if q.looping)
    stop = None if stop_after is None else loop_start + stop_after
    issued = [q for q in planned if stop is None or q.started_at <= stop]
    return Timeline(scenario.replay.start, loop_start, loop_start, stop, issued, planned)


def test_alternatives_on_the_same_replay():
    scenario = Scenario.load(DEFAULT)
    rows = {row.name: row for row in compare(scenario, _timeline(scenario, timedelta(minutes=2)))}

    per_query = query_usd(scenario)
    assert per_query == pytest.approx(1.2 * 5 / 1024 + 1.2 * 0.09, rel=1e-3)
    none, native = rows["(a) no guardrail"], rows["(b) Lambda recursion stop"]
    assert none.stops_after is None and native.stops_after is None
    assert none.queries == native.queries == loop_queries(scenario, timedelta(hours=72)) == 86_400
    budget = rows["(c) AWS Budgets action, spend seen 8 h late"]
    assert budget.stops_after == budget_stop(scenario, timedelta(hours=8))
    assert budget.stops_after > timedelta(hours=8)
    assert rows["(c) AWS Budgets action, spend seen 12 h late"].usd > budget.usd
    guardrail = rows["(d) Runaway Guardrail"]
    assert guardrail.stops_after == timedelta(minutes=2)
    assert guardrail.queries == 41  # one query every 3 s, both ends included
    assert guardrail.usd < budget.usd < none.usd


def test_compare_needs_a_loop():
    quiet = Scenario.parse({**json.loads(DEFAULT.read_text()), "loopMinutes": 0})
    with pytest.raises(ValueError, match="no loop"):
        compare(quiet, Timeline(quiet.replay.start, None, None, None, [], quiet.replay.queries()))


def test_chart_is_a_png(tmp_path):
    scenario = Scenario.parse({**json.loads(DEFAULT.read_text()), "batchQueries": 30, "loopMinutes": 20})
    path = write_chart(scenario, _timeline(scenario, timedelta(minutes=3)), tmp_path / "out" / "chart.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_every_shipped_scenario_loads_and_replays_learned_nights_first():
    scenarios = {path.stem: Scenario.load(path) for path in DEFAULT.parent.glob("*.json")}
    assert set(scenarios) == {"incident", "trail-only", "slow-loop", "member-account"}
    nights = {name: scenario.replay.history_nights for name, scenario in scenarios.items()}
    assert set(nights.values()) == {2}  # written in one batch: cheap
    guarded = {name: scenario.replay.guarded for name, scenario in scenarios.items()}
    assert guarded == {"incident": True, "trail-only": False, "slow-loop": True, "member-account": True}
    incident, trail_only = scenarios["incident"].replay, scenarios["trail-only"].replay
    assert replace(trail_only, guarded=True) == incident  # the same night, told by CloudTrail only
    member = scenarios["member-account"].replay
    assert replace(member, account=incident.account) == incident  # the same night, in a member account
