from datetime import UTC, datetime, timedelta

import pytest

from guardrail.detectors.invocation_scan import (
    InvocationScanConfig,
    Sample,
    account_invocations_moved,
    detect,
    recent_drops,
)

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CONFIG = InvocationScanConfig()


def series(per_minute: float, minutes: int = 60, latest: float | None = None) -> list[Sample]:
    """`minutes` minutes at `per_minute`, then one latest minute at `latest`."""
    samples = [Sample(T0 + timedelta(minutes=m), per_minute) for m in range(minutes) if per_minute]
    if latest is not None:
        samples.append(Sample(T0 + timedelta(minutes=minutes), latest))
    return samples


def test_quiet_functions_give_no_finding():
    assert detect({"api": series(120, latest=130), "idle": []}, {}, CONFIG) == []


def test_the_fixed_limit_holds_a_function_without_history():
    started = [Sample(T0 + timedelta(minutes=m), 2900.0) for m in range(31, 60)]
    [finding] = detect({"batch": [*started, Sample(T0 + timedelta(minutes=60), 3000.0)]}, {}, CONFIG)
    assert finding.evidence["rule"] == "absolute"
    assert finding.evidence["history_minutes"] == 29
    assert finding.observed_at == T0 + timedelta(minutes=60)
    assert finding.dedupe_key == "invocation-scan:batch:2026-11-28T03:00"
    assert finding.doubt == ""  # busy the minute before too: sustained


def test_a_function_with_history_is_held_to_its_own_baseline_not_the_fixed_limit():
    # a public API at 2,500 a minute under a legitimate flood of 2x: under 10x its baseline
    assert detect({"public-api": series(2500, latest=5000)}, {}, CONFIG) == []
    [finding] = detect({"public-api": series(2500, latest=30_000)}, {}, CONFIG)
    assert (finding.evidence["rule"], finding.evidence["threshold"]) == ("ceiling", 30_000)


def test_relative_spike_against_the_functions_own_baseline():
    [finding] = detect({"batch": series(20, latest=400)}, {}, CONFIG)
    assert finding.evidence["rule"] == "relative"
    assert finding.evidence["baseline_per_minute"] == 20


def test_a_single_minute_spike_is_unverified_and_one_that_lasts_is_not():
    [spike] = detect({"public-api": series(20, latest=400)}, {}, CONFIG)
    lasting = [
        *series(20),
        Sample(T0 + timedelta(minutes=60), 400.0),
        Sample(T0 + timedelta(minutes=61), 450.0),
    ]
    [loop] = detect({"public-api": lasting}, {}, CONFIG)
    assert "no sign of a loop" in spike.doubt
    assert spike.dedupe_key == "unverified:invocation-scan:public-api:2026-11-28T03:00"
    assert (loop.doubt, loop.evidence["minute"]) == ("", (T0 + timedelta(minutes=61)).isoformat())


def test_a_gap_before_the_latest_minute_is_no_sustained_rise():
    gap = [
        *series(20, minutes=59),
        Sample(T0 + timedelta(minutes=59), 400.0),
        Sample(T0 + timedelta(minutes=61), 450.0),
    ]
    [finding] = detect({"public-api": gap}, {}, CONFIG)
    assert finding.doubt


def test_one_sustained_minute_throttles_every_spike_at_once():
    [finding] = detect({"batch": series(20, latest=400)}, {}, InvocationScanConfig(sustained_minutes=1))
    assert finding.doubt == ""


def test_the_ceiling_is_never_a_mere_spike():
    [finding] = detect({"api": series(20, latest=30_000)}, {}, CONFIG)
    assert (finding.evidence["rule"], finding.doubt) == ("ceiling", "")


def test_small_spikes_below_the_floor_are_noise():
    assert detect({"cron": series(1, latest=250)}, {}, CONFIG) == []


def test_missing_minutes_count_as_zero_in_the_baseline():
    sparse = [Sample(T0, 600.0), Sample(T0 + timedelta(minutes=60), 300.0)]
    [finding] = detect({"batch": sparse}, {}, CONFIG)
    assert finding.evidence["baseline_per_minute"] == 10


def test_recursion_dropped_by_lambda_wins_over_rate_rules():
    [finding] = detect({"loop": series(5, latest=5000)}, {"loop": [Sample(T0, 3.0)]}, CONFIG)
    assert finding.evidence["rule"] == "recursive-invocations-dropped"


@pytest.mark.parametrize(
    ("invocations", "dropped", "moved"),
    [
        (series(1000, latest=1100), [], False),
        (series(1000, latest=1400), [], True),
        ([], [Sample(T0 + timedelta(minutes=58), 1.0)], True),
        ([], [Sample(T0 + timedelta(minutes=55), 1.0)], False),  # an older drop was looked at already
        ([], [], False),
    ],
)
def test_account_check_moves_only_on_a_rise_or_a_recent_drop(invocations, dropped, moved):
    end = T0 + timedelta(minutes=61)
    found = account_invocations_moved(invocations, CONFIG) is not None or recent_drops(dropped, end, CONFIG)
    assert found is moved
