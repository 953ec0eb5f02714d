"""The customers' states a consumer process handled last, kept in memory between its runs.

A customer's events arrive on the partitions this process holds, so the state it saved at the
end of one run is, nearly always, the state the next run needs: reading it back costs five
queries. A kept state is reused only when the version stored with the customer's profile is
still the one this process wrote; any other writer (another replica after a rebalance, a
replay, a rolled-back transaction here) leaves a different version, and the state is read from
the tables again. So the tables stay the truth and the memory is only a shortcut to it.

A state is taken out while a run works on it and put back only with the version the run
saved: a run that fails half-way leaves nothing behind that could pass for current."""

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from services.events.state import CustomerState, forget_days_before


@dataclass
class _Kept:
    state: CustomerState
    version: int
    # Every day from this one on is in the state; before it, only the last closing balance.
    complete_since: date


class StateCache:
    """At most ``capacity`` states, the least recently used going first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[uuid.UUID, _Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def take(
        self, customer_id: uuid.UUID, stored_version: int | None, since: date
    ) -> CustomerState | None:
        """The kept state if it is the stored one and holds every day from ``since``. Days no
        window can reach any more are dropped here, once the run's first day has moved on (a
        day at a time, not on every run), keeping the balance they ended on."""
        kept = self._kept.pop(customer_id, None)
        if kept is None or stored_version is None or kept.version != stored_version:
            return None
        if since < kept.complete_since:
            return None
        if since > kept.complete_since:
            forget_days_before(kept.state, since)
        return kept.state

    def keep(
        self, states: dict[uuid.UUID, CustomerState], version: int, complete_since: date
    ) -> None:
        """Put back the states a run saved with ``version``, each holding every day from
        ``complete_since`` (and before it, at most the last closing balance)."""
        if self.capacity <= 0:
            return
        for customer_id, state in states.items():
            self._kept[customer_id] = _Kept(state, version, complete_since)
            self._kept.move_to_end(customer_id)
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)
