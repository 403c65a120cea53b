"""A remote command's id used once (commands.py): the command accepted on record, or in memory
while storage takes no writes, and a replay of one refused, or a copy of one answered known."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config.common import most_allowed
from gateway.config.models import Mqtt
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.store.audit import audit as write_audit
from gateway.store.database import open_read_only, transaction
from gateway.sync.command_answers import _answered_on_record, _Copy, _storage_fix
from gateway.sync.command_verify import Command, CommandRefused
from gateway.sync.nonces import forgotten_by, why_forgotten
from gateway.timefmt import from_db, to_db

log = logging.getLogger("gateway.sync.commands")  # its journal lines are the commands' (commands.py)

# The most [mqtt] command_max_age_s and clock_skew_s take: how far back the answer to a command
# received again is looked for (Commands._accepted_after).
LONGEST_COMMAND_LIFE_S = most_allowed(Mqtt, "command_max_age_s")
LONGEST_CLOCK_SKEW_S = most_allowed(Mqtt, "clock_skew_s")


@dataclass(frozen=True, slots=True)
class _Kept:
    """A command's rows that storage did not take (its acceptance, its answer with the reply
    upstream, that of any command done): they wait in memory with the lane records
    (hand_opens.WaitingRecords), in turn.
    Its acceptance is called off (WaitingRecords.call_off) if its action is refused for want of
    storage after all (Commands._called_off)."""

    at: datetime
    what: str
    command: Command
    rows: Callable[[sqlite3.Connection], None]
    written: Callable[[], None] | None = None  # once on record: its command let go of (inbox)

    def details(self) -> str:
        return f"id={self.command.id!r} name={self.command.name} args={self.command.args!r}"

    def write(self, conn: sqlite3.Connection) -> None:
        self.rows(conn)
        if self.written is not None:
            self.written()


class CommandAcceptance:
    """Part of Commands (commands.py): a command's id used once, and its acceptance."""

    gw: Gateway
    cfg: Mqtt
    _kept_ids: dict[str, datetime]
    _acceptances: dict[str, _Kept]

    def _keep_until(self, cmd: Command) -> datetime:
        return self._used_until(cmd.expires_at)

    def _used_until(self, expires_at: datetime) -> datetime:
        """How long a command's id is kept: past its life, and the clock skew it is accepted within."""
        return expires_at + timedelta(seconds=self.cfg.clock_skew_s)

    def _accepted_after(self, kept_until: str) -> datetime:
        """The earliest the command whose id is kept until `kept_until` (its command_nonces row:
        _keep_until) can have been accepted: issued at most command_max_age_s before it expired,
        accepted at most clock_skew_s before it was issued, by the most either setting takes (a
        setting lowered since the command came would look too late). Not from this copy's
        issued_at: the centre may sign the id again later, and its answer, written before, was not
        found."""
        until = from_db(kept_until)
        assert until is not None  # a NOT NULL column
        return until - timedelta(seconds=LONGEST_COMMAND_LIFE_S + 2 * LONGEST_CLOCK_SKEW_S)

    def _kept_before(self, cmd: Command, now: datetime) -> CommandRefused | None:
        """A replay of a command accepted while storage took no writes (its id not on record yet)."""
        for cid, until in list(self._kept_ids.items()):
            if until < now:  # expired past the skew: verify refuses it now
                del self._kept_ids[cid]
                self._acceptances.pop(cid, None)
        if cmd.id in self._kept_ids:
            return CommandRefused(
                "replayed", f"command {cmd.id} was already received", cmd.id, cmd.name, verified=True
            )
        return None

    def _accept_or_go_ahead(self, cmd: Command, now: datetime) -> CommandRefused | _Copy | None:
        """The command accepted on record (_accept); or, when storage takes no writes and it goes
        ahead without its record (Command.goes_ahead_unrecorded), accepted in memory (_kept)."""
        try:
            return self.gw.on_worker(lambda conn: self._accept(conn, cmd, now)).result()
        except sqlite3.Error as exc:
            if not (storage_failure(exc) and cmd.goes_ahead_unrecorded(self.gw.by_hand.needs_record)):
                raise
            return self._kept(cmd, now, exc)

    def _accept(self, conn: sqlite3.Connection, cmd: Command, now: datetime) -> CommandRefused | _Copy | None:
        """The id is used once: recorded with the audit row, or refused as a replay."""
        with transaction(conn):
            refused = self._replay(conn, cmd)
            if refused is None:
                self._accepted(conn, cmd, now)
        return refused

    def _replay(self, conn: sqlite3.Connection, cmd: Command) -> CommandRefused | _Copy | None:
        if forgotten_by(conn, self._keep_until(cmd)):
            return CommandRefused("replayed", why_forgotten(cmd.id), cmd.id, cmd.name, verified=True)
        used = conn.execute("SELECT expires_at FROM command_nonces WHERE id = ?", (cmd.id,)).fetchone()
        if used is not None:
            if _answered_on_record(conn, cmd.id, self._accepted_after(used[0])):
                return _Copy(cmd.id)
            return CommandRefused(
                "replayed", f"command {cmd.id} was already received", cmd.id, cmd.name, verified=True
            )
        return None

    def _accepted(self, conn: sqlite3.Connection, cmd: Command, now: datetime) -> None:
        """Its id kept as used, and its audit row; the caller owns the transaction."""
        conn.execute(
            "INSERT INTO command_nonces (id, expires_at) VALUES (?, ?)",
            (cmd.id, to_db(self._keep_until(cmd))),
        )
        write_audit(
            conn,
            now,
            cmd.actor,
            "command_accepted",
            cmd.name,
            json.dumps({"id": cmd.id, "args": cmd.args}, ensure_ascii=False),
        )

    def _kept(self, cmd: Command, now: datetime, why: sqlite3.Error) -> CommandRefused | _Copy | None:
        """Accepted while storage takes no writes: checked as a replay on what is on record (a
        full disk, or a database another process holds, still reads), its id then kept in memory
        and its acceptance waiting with the lane records, ahead of the lane's own record."""
        with closing(open_read_only(self.gw.db_path)) as conn:
            refused = self._replay(conn, cmd)
        if refused is not None:
            return refused
        self._kept_ids[cmd.id] = self._keep_until(cmd)

        def rows(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                self._accepted(conn, cmd, now)

        acceptance = _Kept(now, "remote command accepted", cmd, rows)
        self._acceptances[cmd.id] = acceptance
        self.gw.by_hand.keep(acceptance, why)
        return None

    def _called_off(self, cmd: Command, exc: sqlite3.Error) -> bool:
        """A command accepted in memory whose action was refused for want of storage after all (the
        lane closed, by a guard or an earlier command, after it was judged to go ahead: a closed
        lane's reopening needs its record): its acceptance, still waiting, called off (True), so
        that the command stays in the inbox, not accepted, and the next start does it. False: its
        acceptance is written (the disk had room meanwhile), and the centre is to be answered."""
        acceptance = self._acceptances.pop(cmd.id, None)
        if acceptance is None or not self.gw.by_hand.call_off(acceptance):
            return False
        del self._kept_ids[cmd.id]
        log.error(
            "remote command id=%s name=%s not done: its record cannot be stored (%s); done at the "
            "next start if it has not expired by then fix=%s",
            cmd.id,
            cmd.name,
            exc,
            _storage_fix(exc, self.gw.data_dir),
        )
        return True
