import re
from datetime import time

import pytest

from guardrail.config import ActiveHours, AthenaWatchConfig, CrossRegionAction
from guardrail.errors import ConfigError

PATH = "guardrail.detectors.athena-watch"


def test_defaults_overrides_and_inheritance():
    config = AthenaWatchConfig.parse(
        {
            "caller": {"maxQueriesPerWindow": 30, "activeHoursUtc": "06:00-18:00"},
            "callers": {
                "batch": {"maxQueriesPerDay": 800, "activeHoursUtc": "22:00-09:00"},
                "adhoc": {"activeHoursUtc": None},
            },
            "crossRegion": "throttle",
        }
    )
    batch = config.caller_rules("batch")
    assert (batch.max_queries_per_window, batch.max_queries_per_day) == (30, 800)  # window from `caller`
    assert batch.max_cost_per_day_usd == 200.0  # from the built-in defaults
    assert batch.active_hours_utc == ActiveHours(time(22), time(9))
    assert config.caller_rules("adhoc").active_hours_utc is None  # an override can remove the hours
    assert config.caller_rules("other").active_hours_utc == ActiveHours(time(6), time(18))
    assert config.cross_region is CrossRegionAction.THROTTLE
    assert config.workgroup_rules("primary").max_queries_per_day == 100_000
    assert AthenaWatchConfig.parse({}) == AthenaWatchConfig()


def test_workgroup_overrides_inherit_from_the_workgroup_section():
    config = AthenaWatchConfig.parse(
        {"workgroup": {"maxQueriesPerDay": 100}, "workgroups": {"adhoc": {"disableOnRunaway": True}}}
    )
    adhoc = config.workgroup_rules("adhoc")
    assert (adhoc.disable_on_runaway, adhoc.max_queries_per_day, adhoc.max_queries_per_window) == (
        True,
        100,
        1_000,
    )
    assert config.workgroup_rules("primary").disable_on_runaway is False


def test_whole_floats_are_whole_numbers_and_ints_are_numbers():
    config = AthenaWatchConfig.parse(
        {"windowMinutes": 10.0, "usdPerTb": 6, "caller": {"maxCostPerDayUsd": 50}}
    )
    assert (config.window_minutes, config.usd_per_tb, config.caller.max_cost_per_day_usd) == (10, 6.0, 50.0)


def test_active_hours_dump_as_written():
    config = AthenaWatchConfig.parse({"callers": {"batch": {"activeHoursUtc": "22:00-09:00"}}})
    dumped = config.model_dump(mode="json", by_alias=True)
    assert dumped["callers"]["batch"]["activeHoursUtc"] == "22:00-09:00"
    assert dumped["caller"]["activeHoursUtc"] is None
    assert AthenaWatchConfig.parse(dumped) == config


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"windowMinute": 5}, f"{PATH}: unknown keys windowMinute (known: "),
        ({"windowMinutes": 0}, f"{PATH}.windowMinutes: Input should be greater than or equal to 1"),
        ({"windowMinutes": 61}, f"{PATH}.windowMinutes: Input should be less than or equal to 60"),
        ({"windowMinutes": True}, f"{PATH}.windowMinutes: expected a whole number, got True"),
        ({"windowMinutes": 2.5}, f"{PATH}.windowMinutes: expected a whole number, got 2.5"),
        (
            {"caller": {"maxQueriesPerDay": 0}},
            f"{PATH}.caller.maxQueriesPerDay: Input should be greater than 0",
        ),
        (
            {"caller": {"maxCostPerDayUsd": -1}},
            f"{PATH}.caller.maxCostPerDayUsd: Input should be greater than 0",
        ),
        ({"caller": {"maxQueriesPerDay": None}}, f"{PATH}.caller.maxQueriesPerDay: expected a whole number"),
        ({"caller": {"max_queries_per_day": 5}}, f"{PATH}.caller: unknown keys max_queries_per_day"),
        ({"caller": []}, f"{PATH}.caller: expected an object, got []"),
        (
            {"callers": {"x": {"activeHoursUtc": "9-17"}}},
            f"{PATH}.callers.x.activeHoursUtc: expected 'HH:MM-HH:MM'",
        ),
        ({"callers": {"x": {"activeHoursUtc": "09:00-09:00"}}}, f"{PATH}.callers.x.activeHoursUtc: the span"),
        ({"callers": {"x": {"activeHoursUtc": "24:00-09:00"}}}, f"{PATH}.callers.x.activeHoursUtc: expected"),
        ({"callers": {"x": {"maxQueries": 1}}}, f"{PATH}.callers.x: unknown keys maxQueries"),
        ({"callers": {"x": 5}}, f"{PATH}.callers.x: expected an object, got 5"),
        ({"callers": []}, f"{PATH}.callers: "),
        (
            {"workgroups": {"adhoc": {"disableOnRunaway": "yes"}}},
            f"{PATH}.workgroups.adhoc.disableOnRunaway: expected true",
        ),
        ({"crossRegion": "block"}, f"{PATH}.crossRegion: Input should be 'off', 'alert' or 'throttle'"),
        ({"createTrail": "yes"}, f"{PATH}.createTrail: expected true or false, got 'yes'"),
        ({"counterTtlHours": 24}, f"{PATH}.counterTtlHours: Input should be greater than or equal to 25"),
        ({"usdPerTb": -1}, f"{PATH}.usdPerTb: Input should be greater than or equal to 0"),
        ({"transferUsdPerGb": "0.09"}, f"{PATH}.transferUsdPerGb: expected a number, got '0.09'"),
    ],
)
def test_malformed_sections_are_rejected_with_the_key_path(section, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        AthenaWatchConfig.parse(section)


def test_baselines_are_on_by_default_and_validated_by_their_key_path():
    config = AthenaWatchConfig.parse({"baselines": {"throttleOn": ["after-usual-window"], "repeatRatio": 2}})
    assert config.baselines.enabled and config.baselines.min_history_days == 2
    assert [str(s) for s in config.baselines.throttle_on] == ["after-usual-window"]
    with pytest.raises(ConfigError, match=re.escape("athena-watch.baselines.throttleOn[0]: Input should be")):
        AthenaWatchConfig.parse({"baselines": {"throttleOn": ["sometimes"]}})
    with pytest.raises(ConfigError, match=re.escape("minHistoryDays (20.0) is more than historyDays (14)")):
        AthenaWatchConfig.parse({"baselines": {"minHistoryDays": 20, "historyDays": 14}})


def test_a_callers_override_names_a_place():
    arn = "arn:aws:lambda:us-west-2:222222222222:function:batch"
    role = "arn:aws:iam::222222222222:role/etl"
    config = AthenaWatchConfig.parse(
        {
            "callers": {
                "batch": {"maxQueriesPerDay": 800},
                arn: {"maxQueriesPerDay": 900},
                role: {"maxQueriesPerDay": 7},
            }
        }
    )
    assert config.caller_rules("batch").max_queries_per_day == 800  # the home account's batch
    assert config.caller_rules("batch", at_home=False).max_queries_per_day == 10_000  # a namesake elsewhere
    assert config.caller_rules("batch", function_arn=arn, at_home=False).max_queries_per_day == 900
    other = arn.replace("222222222222", "333333333333")
    assert config.caller_rules("batch", function_arn=other, at_home=False).max_queries_per_day == 10_000
    assert (
        config.caller_rules(role, at_home=False).max_queries_per_day == 7
    )  # a principal's ARN names its account


@pytest.mark.parametrize("key", ["no spaces", "arn:aws:lambda:us-west-2:2:function:batch", "batch:prod"])
def test_a_callers_key_that_names_no_place_is_refused(key):
    with pytest.raises(ConfigError, match=re.escape(f"{PATH}: callers: {key!r} is neither")):
        AthenaWatchConfig.parse({"callers": {key: {}}})
