"""The hourly cap: the first free of N slots, never more than N an hour, a freed slot taken again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guardrail.hourly_cap import HOUR, HourlyCap

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class RollingSlots:
    """Slots held for an hour from when they were taken, as the breaker's are; records every try."""

    def __init__(self) -> None:
        self.taken_at: dict[int, datetime] = {}
        self.tries: list[int] = []

    def take(self, slot: int, at: datetime) -> bool:
        self.tries.append(slot)
        if slot in self.taken_at and self.taken_at[slot] > at - HOUR:
            return False
        self.taken_at[slot] = at
        return True


def test_each_taking_wins_the_first_free_slot_and_stops_there():
    slots = RollingSlots()
    cap = HourlyCap(slots, 3)

    assert [cap.take(T0 + timedelta(minutes=m)) for m in range(3)] == [True, True, True]

    assert slots.tries == [0, 0, 1, 0, 1, 2]
    assert sorted(slots.taken_at) == [0, 1, 2]


def test_past_the_limit_every_slot_is_tried_and_none_taken():
    slots = RollingSlots()
    cap = HourlyCap(slots, 2)
    cap.take(T0)
    cap.take(T0 + timedelta(minutes=10))
    slots.tries.clear()

    assert not cap.take(T0 + timedelta(minutes=59))
    assert slots.tries == [0, 1]


def test_a_slot_freed_by_its_store_is_taken_again_one_at_a_time():
    slots = RollingSlots()
    cap = HourlyCap(slots, 2)
    cap.take(T0)
    cap.take(T0 + timedelta(minutes=30))

    assert cap.take(T0 + HOUR)  # slot 0 freed; slot 1 still held
    assert not cap.take(T0 + HOUR + timedelta(minutes=1))
    assert slots.taken_at == {0: T0 + HOUR, 1: T0 + timedelta(minutes=30)}


def test_a_cap_of_zero_takes_nothing():
    slots = RollingSlots()
    assert not HourlyCap(slots, 0).take(T0)
    assert slots.tries == []
