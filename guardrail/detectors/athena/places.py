"""Where an Athena event happened, seen from the guardrail's home: its counters' names and its lookups.

At home (or with no home given: the watch's own region alone) counters keep the names they always
had and Athena and the data catalog are asked through the watch's own clients. Another watched
account or region keeps its counters apart (`name@account:region`) and is asked through its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardrail.detectors.athena.events import QueryFinished, QueryStarted
from guardrail.detectors.athena.model import placed
from guardrail.detectors.athena.ports import LocationLookup, QueryLookup
from guardrail.functions import Scope

#: An account and a region.
Place = tuple[str, str]
Lookups = tuple[QueryLookup, LocationLookup]


@dataclass(frozen=True)
class Places:
    """The guardrail's home, its own lookups, and those of the other places it watches."""

    home: Scope | None
    queries: QueryLookup
    locations: LocationLookup
    elsewhere: Callable[[str, str], Lookups] | None = None

    def of(self, event: QueryStarted | QueryFinished) -> Place:
        """The event's account and region (a blank account is the guardrail's own)."""
        return event.account or (self.home.account if self.home else ""), event.region

    def away(self, place: Place) -> Place | None:
        """The place, when it is not the guardrail's home (its counters are kept apart)."""
        return None if self.home is None or self.home.is_home(*place) else place

    def scoped(self, name: str, place: Place) -> str:
        """A caller's or workgroup's counter name: as it always was at home, else with its place."""
        return placed(name, self.away(place))

    def lookups(self, place: Place) -> Lookups:
        """Athena's and the data catalog's answers where the query ran."""
        if self.away(place) is None or self.elsewhere is None:
            return self.queries, self.locations
        return self.elsewhere(*place)
