"""Remote commands: signed by the central server with the gateway's own key, used once, audited.

A command is a JSON object signed with HMAC-SHA256 over its canonical form (sorted keys, no spaces,
UTF-8) without the "sig" field. It names the site it is for, an id used once, and a short life
(issued_at .. expires_at): a captured command cannot be replayed, here or at another gateway.

The broker forgets a command once paho has acknowledged it, so each is kept in the downlink inbox
(inbox.py) from its arrival until it is answered; what a stop or a kill left there is taken up at
the next start. Its id, kept with the audit row that accepts it, stops it from running twice;
one accepted and cut short by a stop is answered `replayed` at the next start, even past its
life or after the key changed, since whether it took effect is not known. One received again once
answered (the broker's QoS 1 copy, after a link drop or a kill before paho's PUBACK) is neither
run nor answered again: it was answered `ok`, then `replayed`, and the centre read the second.
A copy is known by what its signature covers, not by its bytes (command_copies.py); another
command signed under an id used is answered `replayed` once, never run (Commands._under_used_id):
the centre signed it again corrected, after a refusal that came once the id was used. One refused
for its time alone (`not_yet_valid`, `expired`: the box's clock wrong) has its id kept as used, as
an accepted one's is: a copy published once the clock was right opened the gate after the centre
was answered that the command did not run.

A command whose action goes ahead without its record (an opening, a lane let down: hand_lanes.py)
goes ahead the same way when storage takes no writes (a full SD card at 03:00, the centre's 开闸):
its id is then kept in memory, where a replay is refused while the process lives, and its
acceptance and answer wait in memory with the lane's records, written in turn once storage takes
writes, and the reply goes up then. Refused for want of its acceptance row, the centre's opening
did nothing, answered nothing, and was tried again at the next start, expired by then. Only a
command that does go ahead so is accepted in memory: a closed lane's reopening needs its record,
and is left for the next start, not accepted; accepted in memory, its acceptance was written once
the disk had room, and the next start answered it `replayed` with the lane still closed.
A command done whose answer storage does not take (the database held by another process past the
busy timeout, just after the gate opened) has that answer wait in memory the same way: it was left
for the next start, maybe days later, which answered that whether it took effect was not known.
The inbox keeps such a command, with its answer, until the answer is on record: let go at once, a
stop while the answer waited lost it, and the centre never got one; the next start answers it.

Until a command is verified, its id and name are only what a stranger wrote: each is kept (in the
reply, the audit row, the log) only if it is one an id or a command can be, so a forger can make
them neither large nor many lines.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import Any

from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.store.audit import audit as write_audit
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.sync.command_acceptance import CommandAcceptance, _Kept
from gateway.sync.command_actions import CommandActions, _failure_code
from gateway.sync.command_answers import (
    _ANSWERED,
    _NOT_KNOWN,
    _REFUSALS_USING_THE_ID,
    _SIGNED,
    _Copy,
    _cut_short,
    _id_used,
    _its_answers,
    _storage_failed,
)
from gateway.sync.command_copies import AnsweredCommands, digest
from gateway.sync.command_key import CommandKey
from gateway.sync.command_verify import Command, CommandRefused, _address_of, _addressed, verify
from gateway.sync.command_verify import sign as sign
from gateway.sync.inbox import Inbox
from gateway.sync.messages import read_json
from gateway.sync.replies import fit, room
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

# Refused commands recorded (audit row and reply) per minute at most: whoever can publish to the
# command topic without our key (a broker ACL left open) must not fill the audit trail and the
# outbox. The rest are counted, logged once a minute, and named in the next one recorded. Only
# refusals that come before the signature is found good count: the central server's own commands
# (signed, though refused as expired or with a time without its zone, say) are always answered:
# a refusal says whether it came after the signature was found good (CommandRefused.verified).
REFUSALS_RECORDED_PER_MINUTE = 20
# A command whose handling failed this many times (at as many starts: a bug, a broken database)
# is answered `failed` and let go, rather than kept and failing again at every start.
HANDLING_ATTEMPTS = 3


class Commands(CommandAcceptance, CommandActions):
    """Verifies and runs remote commands one at a time, off the link and directory threads."""

    def __init__(self, gw: Gateway, resync: Any, inbox: Inbox):
        self.gw = gw
        self.cfg = gw.site.config.mqtt
        self.key_path = gw.site.config.command_key_path
        self._resync = resync  # reason -> None
        self._inbox = inbox
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commands")
        self.accepted = 0
        self.refused = 0
        self.unrecorded = 0  # refusals past the per-minute limit, not yet named in a record
        # Ids of commands accepted while storage took no writes, until their nonces could expire:
        # a replay is refused by them while their command_nonces rows wait in memory.
        self._kept_ids: dict[str, datetime] = {}
        # Their acceptances that still wait, by id: called off if the action is refused after all.
        self._acceptances: dict[str, _Kept] = {}
        # Commands answered (or their answer kept in memory): a copy is not run or answered again.
        self._answered = AnsweredCommands()
        # Inbox ids of commands done whose answer is not on record yet: let go once it is (_answer).
        self._held: set[int] = set()
        self._recorded: deque[float] = deque()  # monotonic times of the refusals recorded lately
        self._clock = time.monotonic
        self._reply_room = room(
            self.cfg.max_message_bytes, self.cfg.topic_prefix, gw.site.config.site.id, "command_reply"
        )
        self._key = CommandKey(self.key_path)
        self._key.warn_at_start()

    def start(self) -> None:
        """Before the link starts: commands received before the last stop and not answered go
        first, in their order."""
        left = self._inbox.waiting(("command",))
        if left:
            log.info("taking up %d remote command(s) received before the last stop", len(left))
        for kept, _, body in left:
            self._pool.submit(self._handle, body, kept, True)

    def receive(self, payload: bytes) -> None:
        """On paho's network thread, before the broker is acknowledged: kept on disk first."""
        self._pool.submit(self._handle, payload, self._inbox.keep("command", payload), False)

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
        self._held.clear()  # the inbox closes next (_let_go)

    def _handle(self, payload: bytes, kept: int | None, resumed: bool) -> None:
        try:
            self.run(payload, resumed, kept)
        except Exception:  # left in the inbox: the next start takes it up again, a few times
            self._held.discard(kept or 0)
            failures = self._inbox.failed(kept) if kept is not None else HANDLING_ATTEMPTS
            if failures < HANDLING_ATTEMPTS:
                log.exception(
                    "remote command not handled (failure %d of %d); tried again at the next start",
                    failures,
                    HANDLING_ATTEMPTS,
                )
                return
            log.exception("remote command not handled, %d times: answered `failed`, let go", failures)
            self._give_up(payload)
        if kept in self._held:  # done; let go once its answer is on record (_answer)
            return
        self._inbox.done([kept] if kept is not None else [])

    def _give_up(self, payload: bytes) -> None:
        try:
            body: Any = read_json(payload)
        except ValueError:
            body = None
        cid, name = _addressed(body)
        reply = {
            "id": cid,
            "name": name,
            "ok": False,
            "code": "failed",
            "message": f"the gateway failed to handle this command (its log says why) and does not "
            f"try again; {_NOT_KNOWN}",
        }
        now = self.gw.now()
        try:
            self.gw.on_worker(
                lambda conn: self._record(conn, "command_failed", "unverified", name or "", reply, now)
            ).result()
        except Exception:
            log.exception("the `failed` answer to remote command id=%s could not be recorded", cid)

    def run(self, payload: bytes, resumed: bool = False, kept: int | None = None) -> dict[str, Any] | None:
        """Verify, record, do, reply; returns the reply. `resumed`: taken up from the inbox at a
        start; None if it was answered before that start (a stop between its reply and the
        inbox letting go of it). `kept`: its id in the inbox, which holds its answer until that
        answer is on record (_answer)."""
        now = self.gw.now()
        cid, name, content = _address_of(payload)
        if cid is not None and self._answered.same_command(cid, content):  # expired or not
            self._copy(cid, "answered while the gateway runs")
            return None
        before = self._recorded_before(cid, content) if resumed else set()
        if cid is not None and before & set(_ANSWERED):
            self._answered.remember(cid, content, used=False)  # the broker's copy may follow at the connect
            return None
        held = self._inbox.answer(kept) if resumed and kept is not None and cid is not None else None
        if cid is not None and held is not None:
            return self._answer_held(cid, content, held, kept)
        accepted = "command_accepted" in before
        try:
            if cid is not None and accepted:  # not verified again: the key may have changed since
                # verified: it was, when it was accepted, so its answer is never limited
                raise CommandRefused("replayed", _cut_short(cid), cid, name, verified=True)
            cmd = verify(
                payload,
                self._key.read(),
                self.gw.site.config.site.id,
                now,
                self.cfg.command_max_age_s,
                self.cfg.clock_skew_s,
            )
            if self._answered.used(cmd.id):  # signed: the centre's id, used once; no copy (above)
                raise _id_used(cmd.id, cmd.name)
            replayed = self._kept_before(cmd, now) or self._accept_or_go_ahead(cmd, now)
            if isinstance(replayed, _Copy):
                self._answered.remember(cmd.id, content, used=True)
                self._copy(cmd.id, "its answer is on record")
                return None
            if replayed is not None:
                raise replayed
        except CommandRefused as exc:
            refusal = self._under_used_id(exc)
            if refusal is None:
                return None
            self.refused += 1
            reply: dict[str, Any] = {
                "id": refusal.command_id,
                "name": refusal.name,
                "ok": False,
                "code": refusal.code,
                "message": refusal.message,
            }
            if refusal.fix:
                reply["fix"] = refusal.fix
            if not refusal.verified and not self._may_record_refusal():
                return reply
            # %r: the id and name are checked, yet came from whoever published; one line an event.
            log.warning(
                "remote command refused id=%r name=%r code=%s: %r",
                refusal.command_id,
                refusal.name,
                refusal.code,
                refusal.message,
            )
            if self.unrecorded:
                reply["refused_unrecorded_before"] = self.unrecorded
                self.unrecorded = 0
            target = refusal.name or ""
            # Refused for its time: its id used as though it had run (CommandRefused.expires_at).
            until = None
            if refusal.verified and refusal.command_id is not None and refusal.expires_at is not None:
                until = self._used_until(refusal.expires_at)
            # Its id left free: the row says which command it answered (_SIGNED), not the reply.
            signed = None
            if refusal.command_id is not None and refusal.code not in _REFUSALS_USING_THE_ID:
                signed = digest(content).hex()
            self.gw.on_worker(
                lambda conn: self._record(
                    conn, "command_refused", "unverified", target, reply, now, until, signed
                )
            ).result()
            if refusal.verified and refusal.command_id is not None:
                used = until is not None or refusal.code == "replayed"
                self._answered.remember(refusal.command_id, content, used=used)
            return reply
        self.accepted += 1
        try:
            reply = {"id": cmd.id, "name": cmd.name, "ok": True, "result": self._execute(cmd)}
        except GatewayError as exc:
            code = _failure_code(cmd, exc)
            # already_done's `by` (and `state`), as the API's 409 gives them, and its `at` as
            # `done_at`: the command_reply record's own `at` is when it was answered.
            done = {("done_at" if key == "at" else key): value for key, value in exc.data.items()}
            reply = {**done, "id": cmd.id, "name": cmd.name, "ok": False, "code": code}
            reply["message"] = exc.message
            if exc.fix:  # what to do, as an HTTP client is told: "use one of ['car-in', ...]"
                reply["fix"] = exc.fix
        except sqlite3.Error as exc:
            # Accepted in memory, refused for want of storage after all: left for the next start
            # (_called_off), or answered so.
            if cmd.id not in self._kept_ids or not storage_failure(exc) or self._called_off(cmd, exc):
                raise
            reply = _storage_failed(cmd, exc, self.gw.data_dir)
        self._acceptances.pop(cmd.id, None)
        self._answer(cmd, reply, self.gw.now(), kept)
        self._answered.remember(cmd.id, content, used=True)
        log.info("remote command id=%s name=%s args=%s ok=%s", cmd.id, cmd.name, cmd.args, reply["ok"])
        return reply

    def _answer(
        self,
        cmd: Command,
        reply: dict[str, Any],
        at: datetime,
        kept: int | None,
        nonce: datetime | None = None,
    ) -> None:
        """The answer to a command done (`command_done`, the cmd/reply), or kept in memory while
        storage takes no writes (behind its acceptance that waits, or refused itself). The inbox
        holds the command, with this answer, until the answer is on record: let go at once, a
        stop while the answer waited in memory lost it, and the centre never heard (the gate had
        opened). A command whose answer the inbox cannot hold either is let go at once if its
        acceptance waits in memory too: nothing would tell the next start that it ran. `nonce`:
        until when its id is kept as used, with the answer (an acceptance lost at a stop,
        _answer_held)."""
        keep_until = nonce or self._keep_until(cmd)

        def done(conn: sqlite3.Connection) -> None:
            self._record(conn, "command_done", cmd.actor, cmd.name, reply, at, nonce)

        def waits() -> _Kept:
            """The answer as it waits in memory: the inbox holds the command with it."""
            held = kept is not None and self._inbox.hold_answer(
                kept,
                json.dumps(
                    {
                        "at": at.isoformat(),
                        "keep_until": keep_until.isoformat(),
                        "actor": cmd.actor,
                        "args": cmd.args,
                        "reply": reply,
                    },
                    ensure_ascii=False,
                ),
            )
            if kept is None or not (held or cmd.id not in self._kept_ids):
                return _Kept(at, "remote command answered", cmd, done)
            self._held.add(kept)
            return _Kept(at, "remote command answered", cmd, done, partial(self._let_go, kept))

        if cmd.id in self._kept_ids:  # behind its acceptance, which waits
            self.gw.by_hand.in_turn(waits())
            return
        try:
            self.gw.on_worker(done).result()
        except sqlite3.Error as exc:
            # Done (the gate opened): left in the inbox, it was answered at the next start, maybe
            # days later, that whether it took effect was not known.
            if not storage_failure(exc):
                raise
            self.gw.by_hand.keep(waits(), exc)

    def _let_go(self, kept: int) -> None:
        """On the decision worker, a command's answer that waited now written: the inbox lets go
        of it, on the commands' thread (the worker decides the cars). Written at the gateway's
        stop (the inbox closed by then), it is let go at the next start, its answer on record."""
        with suppress(RuntimeError):  # shut down: the gateway stops
            self._pool.submit(self._let_go_now, kept)

    def _let_go_now(self, kept: int) -> None:
        if kept in self._held:
            self._held.discard(kept)
            self._inbox.done([kept])

    def _answer_held(self, cid: str, content: bytes, held: str, kept: int | None) -> dict[str, Any]:
        """A command taken up at a start that was done before the stop, its answer then waiting
        in memory (storage took no writes) and lost with it: answered now with that answer, held
        in the inbox (_answer), not run again. It was let go as the answer waited, and the centre
        never got one."""
        kept_answer = json.loads(held)
        reply: dict[str, Any] = kept_answer["reply"]
        at = datetime.fromisoformat(kept_answer["at"])
        until = datetime.fromisoformat(kept_answer["keep_until"])
        name = str(reply.get("name") or "")
        cmd = Command(cid, name, kept_answer["args"], kept_answer["actor"], at, until)
        log.info(
            "remote command id=%s was done before the last stop, its answer not yet recorded: "
            "answered now (ok=%s), not run again",
            cid,
            reply.get("ok"),
        )
        self._answer(cmd, reply, at, kept, nonce=until)
        self._answered.remember(cid, content, used=True)
        return reply

    def _may_record_refusal(self) -> bool:
        now = self._clock()
        while self._recorded and now - self._recorded[0] >= 60:
            self._recorded.popleft()
        if len(self._recorded) < REFUSALS_RECORDED_PER_MINUTE:
            self._recorded.append(now)
            return True
        if self.unrecorded == 0:
            log.warning(
                "more than %d remote commands refused within a minute: the rest are counted, not "
                "recorded (fix: check who may publish to the command topic in the broker's ACL)",
                REFUSALS_RECORDED_PER_MINUTE,
            )
        self.unrecorded += 1
        return False

    def _under_used_id(self, exc: CommandRefused) -> CommandRefused | None:
        """The refusal to answer: signed under an id used already while the gateway runs, a content
        never answered under it (a copy of one is known on arrival) is refused `replayed`, whatever
        verify found first (`expired`, say), once; past the contents remembered under that id
        (CONTENTS_PER_ID), a copy, not answered (None), so that whoever captured them gets no
        answer each time he publishes them in turn."""
        cid = exc.command_id
        if not exc.verified or cid is None or not self._answered.used(cid):
            return exc
        if self._answered.room_under(cid):
            return exc if exc.code == "replayed" else _id_used(cid, exc.name)
        self._copy(cid, "answered while the gateway runs")
        return None

    def _copy(self, cid: str, why: str) -> None:
        self._answered.say(cid, why, self._clock())

    def _recorded_before(self, cid: str | None, content: bytes) -> set[str]:
        """What the audit table holds of this command, under its id: its actions (_ANSWERED and
        command_accepted), not those of another command signed under that id before a refusal
        left it free (_its_answers). Searched only for the few commands taken up at a start: the
        audit table has no index to find a command's rows by."""
        if cid is None:
            return set()
        marks = ", ".join("?" * (len(_ANSWERED) + 1))
        rows = self.gw.on_worker(
            lambda conn: conn.execute(
                f"SELECT action, detail FROM audit WHERE action IN ({marks}) AND instr(detail, ?) > 0 "
                "ORDER BY id",
                (*_ANSWERED, "command_accepted", f'"id": {json.dumps(cid)}'),  # as its rows have it
            ).fetchall()
        ).result()
        before = _its_answers(rows, digest(content).hex())
        if before & set(_ANSWERED):
            log.info("remote command id=%s was answered before the last stop; not again", cid)
        return before

    def _record(
        self,
        conn: sqlite3.Connection,
        action: str,
        actor: str,
        target: str,
        reply: dict[str, Any],
        now: datetime,
        nonce_until: datetime | None = None,
        signed: str | None = None,
    ) -> None:
        """The reply as it is in the audit row (its start: the id first), cut to fit as it goes up.
        `nonce_until`: the command's id kept as used with it, if it is not already. `signed`: in
        the audit row only, after the id (_SIGNED)."""
        row = {"id": reply["id"], _SIGNED: signed, **reply} if signed is not None else reply
        with transaction(conn):
            if nonce_until is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO command_nonces (id, expires_at) VALUES (?, ?)",
                    (reply["id"], to_db(nonce_until)),
                )
            write_audit(conn, now, actor, action, target, json.dumps(row, ensure_ascii=False))
            enqueue(conn, "command_reply", {"at": now.isoformat(), **fit(reply, self._reply_room)}, now)
