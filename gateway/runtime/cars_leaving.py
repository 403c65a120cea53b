"""The cars let out whose barrier has not confirmed yet: each closed its car's stay, yet a barrier
that stays down puts the car back on it (Gateway._not_let_out), with no room to check. An entry let
onto its space or its slot meanwhile overfilled the car park (docs/parking.md, *Let out by hand*):
the entrance's lookup and the occupancy figures count each such car inside, where a put-back would
put it (store/occupancy.py cars_leaving). Only the decision worker writes; any thread reads."""

from __future__ import annotations

from gateway.events import AccessEvent
from gateway.runtime.lane_boards import ExitPassages


class CarsLeaving:
    def __init__(self, exits: ExitPassages[AccessEvent]):
        self._exits = exits  # pulsed, a relay's answer still to come (a Modbus module's, up to 1 s)
        self._not_pulsed: list[AccessEvent] = []  # let out in this batch: pulsed once it is stored
        self._stays: dict[str, int] = {}  # by exit: the stay it closed

    def let_out(self, ev: AccessEvent, stay: int) -> None:
        """An exit at a lane with a relay that closed `stay`: leaving till a relay takes its pulse."""
        self._not_pulsed.append(ev)
        leaving = {out.event_id for out in self.events()}
        kept = {event: stay for event, stay in self._stays.items() if event in leaving}
        self._stays = {**kept, ev.event_id: stay}  # a new dict: a reader sees one whole

    def pulsed(self) -> None:
        """The batch's exits pulsed (ExitPassages.waiting has those still to confirm), or the last
        batch's, as the next begins."""
        self._not_pulsed.clear()

    def stays(self) -> list[int]:
        """The stays the cars leaving closed."""
        stays = self._stays
        return [stays[ev.event_id] for ev in self.events() if ev.event_id in stays]

    def events(self) -> list[AccessEvent]:
        """The exits of the cars leaving. The batch's are read first: the worker puts an exit among
        the waiting before it lets go of the batch's (read the other way, a request's thread could
        find it in neither)."""
        not_pulsed = list(self._not_pulsed)
        waiting = self._exits.waiting()
        seen = {ev.event_id for ev in waiting}
        return [*waiting, *(ev for ev in not_pulsed if ev.event_id not in seen)]
