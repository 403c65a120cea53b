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

import hashlib
import hmac
import json
import logging
import re
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gateway.config.common import most_allowed
from gateway.config.models import Mqtt
from gateway.errors import Conflict, GatewayError, NotFound, Refused
from gateway.privacy import mask_numbers_in
from gateway.runtime.alarm_acks import acknowledging, alarm_id_from
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.store.audit import audit as write_audit
from gateway.store.database import open_read_only, storage_cause, storage_fix, transaction
from gateway.store.outbox import enqueue
from gateway.store.set_aside import send_again
from gateway.sync.command_copies import AnsweredCommands, digest
from gateway.sync.command_key import CommandKey
from gateway.sync.inbox import Inbox
from gateway.sync.messages import quoted, read_json
from gateway.sync.nonces import forgotten_by, why_forgotten
from gateway.sync.replies import fit, room, seq_runs
from gateway.timefmt import from_db, later, to_db

log = logging.getLogger(__name__)

COMMANDS: dict[str, tuple[set[str], set[str]]] = {  # name: (required args, optional args)
    "open_lane": ({"lane"}, {"reason"}),
    "set_lane_mode": ({"lane", "mode"}, {"reason"}),
    "resync": (set(), {"reason"}),
    "send_again": ({"seqs"}, {"reason"}),
    "acknowledge_alarm": ({"alarm_id"}, {"note", "alarm_stream"}),
}
# Commands whose NotFound is answered `not_found`: an alarm gone (retention, a new box) is no
# malformed command. The others' (a lane the site does not have, seqs not set aside) stay
# `bad_args`, as docs/mqtt.md has long said.
_NOT_FOUND_ANSWERED = frozenset({"acknowledge_alarm"})
# As long as a guard's note (api/site.py Ack).
NOTE_MAX = 200
# Args the centre's operator types: a phone number in them is masked from the start (verify), so
# that the command_accepted row (kept 365 days) and the journal never hold it in clear either.
_TYPED = frozenset({"reason", "note"})
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
# The most [mqtt] command_max_age_s and clock_skew_s take: how far back the answer to a command
# received again is looked for (Commands._accepted_after).
LONGEST_COMMAND_LIFE_S = most_allowed(Mqtt, "command_max_age_s")
LONGEST_CLOCK_SKEW_S = most_allowed(Mqtt, "clock_skew_s")
_SIG = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[!-~]{8,64}")  # printable ASCII without spaces, as a UUID is
# The audit rows a command leaves: accepted (then cut short if nothing follows), answered.
_ANSWERED = ("command_done", "command_refused", "command_failed")
# Refusals that use the id though the command was not accepted (docs/mqtt.md, An id used, or left
# free); every other refusal before acceptance leaves it free.
_REFUSALS_USING_THE_ID = frozenset({"not_yet_valid", "expired", "replayed"})
# In the audit row of such a refusal (not in its reply): the sha256 of what the signature covers
# (command_copies.digest), by which a start knows whether a command left in the inbox is the one
# refused (_its_answers), whatever the key or [mqtt] became since.
_SIGNED = "signed_sha256"
# The digest of a refusal's row cut short at audit.detail's 500 characters: it comes right after the id.
_SIGNED_IN_CUT_ROW = re.compile(r'"signed_sha256": "([0-9a-f]{64})"')
_NOT_KNOWN = (
    "whether it took effect is not known (fix: check the lane or the directory, and send a new "
    "command if needed)"
)


class CommandRefused(Exception):
    """A command refused, with the code its reply names. `verified`: refused after its signature
    was found good (the central server's own command, answered whatever the flood of others).
    `expires_at`: a signed command refused for its time alone (`not_yet_valid`, `expired`), which
    the box's clock set right could take as valid: its id is kept as used until then (and the
    clock skew), so that a copy of it never runs after the centre was answered that it did not.
    `fix`: what the centre is to do, sent with the reply as a `bad_args` one's is."""

    def __init__(
        self,
        code: str,
        message: str,
        command_id: str | None = None,
        name: str | None = None,
        *,
        verified: bool = False,
        expires_at: datetime | None = None,
        fix: str | None = None,
    ):
        self.code = code
        self.message = message
        self.command_id = command_id
        self.name = name
        self.verified = verified
        self.expires_at = expires_at
        self.fix = fix
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    name: str
    args: dict[str, str]
    actor: str
    issued_at: datetime
    expires_at: datetime

    def goes_ahead_unrecorded(self, needs_record: Callable[[str, str], bool]) -> bool:
        """Done while storage takes no writes, as a guard's by hand is (hand_lanes.py): a single
        opening, and set_lane_mode normal where it lets a held lane down. `needs_record`
        (HandLanes.needs_record) says which lane modes need their record first: a closed lane's
        reopening does, and fails without it."""
        if self.name == "open_lane":
            return True
        if self.name != "set_lane_mode":
            return False
        return not needs_record(self.args.get("lane", ""), self.args.get("mode", ""))


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


def canonical(body: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The body with its "sig": what the central server does before publishing a command."""
    return {**body, "sig": hmac.new(key, canonical(body), hashlib.sha256).hexdigest()}


def verify(data: bytes, key: bytes | None, site: str, now: datetime, max_age_s: int, skew_s: int) -> Command:
    """The command, if it is well formed, signed with our key, for this site and alive now."""
    try:
        body = read_json(data)
    except ValueError as exc:
        raise CommandRefused("malformed", str(exc)) from None
    if not isinstance(body, dict):
        raise CommandRefused("malformed", "not a JSON object")
    cid, name = _addressed(body)
    signed = False  # True once the signature is found good: read when a refusal is made

    def refuse(code: str, message: str, expires_at: datetime | None = None) -> CommandRefused:
        return CommandRefused(code, message, cid, name, verified=signed, expires_at=expires_at)

    if body.get("v") != 1 or body.get("type") != "command":
        raise refuse("malformed", "expected v=1 and type=command")
    if cid is None:
        raise refuse("malformed", "id must be 8 to 64 printable ASCII characters without spaces")
    sig = body.get("sig")
    if not isinstance(sig, str) or not sig:
        raise refuse("unsigned", "the command carries no signature")
    if key is None:
        raise refuse("no_key", "this gateway has no command key; it accepts no remote command")
    if not _SIG.fullmatch(sig):  # checked first: compare_digest raises on non-ASCII text
        raise refuse(
            "bad_signature", "sig must be 64 hex characters: the HMAC-SHA256 that docs/mqtt.md describes"
        )
    try:
        expected = hmac.new(key, canonical(body), hashlib.sha256).hexdigest()
    except RecursionError:  # read just below the limit, written again just above it
        raise refuse("malformed", "nested too deep") from None
    if not hmac.compare_digest(expected, sig.lower()):
        raise refuse("bad_signature", "the signature does not match this gateway's key")
    # Signed by the holder of our key from here on; still check that it is for us and for now.
    signed = True
    if body.get("site") != site:
        raise refuse("wrong_site", f"the command is for site {quoted(body.get('site'))}, this is {site!r}")
    issued, expires = _time(body, "issued_at", refuse), _time(body, "expires_at", refuse)
    if expires <= issued or expires - issued > timedelta(seconds=max_age_s):
        raise refuse("bad_lifetime", f"a command lives more than 0 and at most {max_age_s} s")
    skew = timedelta(seconds=skew_s)
    if issued > later(now, skew):
        raise refuse("not_yet_valid", f"issued at {issued.isoformat()}, in the future", expires)
    if now > expires + skew:
        raise refuse("expired", f"expired at {expires.isoformat()}", expires)
    if name is None:
        raise refuse("unknown_command", f"{quoted(body.get('name'))} is not one of {sorted(COMMANDS)}")
    args = body.get("args", {})
    required, optional = COMMANDS[name]
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        raise refuse("bad_args", "args must be an object of text values")
    if not required <= set(args) <= required | optional:
        raise refuse("bad_args", f"{name} takes {sorted(required)} and optionally {sorted(optional)}")
    actor = body.get("actor") if isinstance(body.get("actor"), str) else "central"
    typed = {key: mask_numbers_in(value) if key in _TYPED else value for key, value in args.items()}
    return Command(cid, name, typed, f"central:{actor}"[:80], issued, expires)


def _failure_code(cmd: Command, exc: GatewayError) -> str:
    """The code a command that could not be done is answered with: already_done (an alarm
    acknowledged already: `by` and `at` say by whom and when), not_found (_NOT_FOUND_ANSWERED),
    bad_args for what else it named wrong, device_failed (a relay)."""
    if isinstance(exc, Conflict) and exc.http_code == "already_done":
        return "already_done"
    if isinstance(exc, NotFound) and cmd.name in _NOT_FOUND_ANSWERED:
        return "not_found"
    return "bad_args" if isinstance(exc, NotFound | Refused) else "device_failed"


def _addressed(body: Any) -> tuple[str | None, str | None]:
    """The id and name a reply names: the id only if it is one, the name only if it is one of
    COMMANDS. Both come from whoever published, before any signature is checked."""
    if not isinstance(body, dict):
        return None, None
    cid, name = body.get("id"), body.get("name")
    return (
        cid if isinstance(cid, str) and _ID.fullmatch(cid) else None,
        name if isinstance(name, str) and name in COMMANDS else None,
    )


def _address_of(payload: bytes) -> tuple[str | None, str | None, bytes]:
    """The id and name a reply names (_addressed), and what a signature covers (canonical), by
    which a copy is known: respaced, or its keys in another order, it is the same command. The
    bytes themselves where there is no JSON object."""
    try:
        body = read_json(payload)
        content = canonical(body) if isinstance(body, dict) else payload
    except (ValueError, RecursionError):  # RecursionError: read just below the limit
        return None, None, payload
    return (*_addressed(body), content)


def _time(body: dict[str, Any], name: str, refuse: Any) -> datetime:
    try:
        value = datetime.fromisoformat(body[name])
    except (KeyError, TypeError, ValueError):
        raise refuse("malformed", f"{name} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise refuse("malformed", f"{name} has no time zone")
    return value


def _seqs(text: str) -> list[int]:
    try:
        seqs = [int(part) for part in text.split(",")]
    except ValueError:
        seqs = []
    if not seqs or any(seq < 1 for seq in seqs):
        raise Refused(f"seqs must be `all` or record seqs separated by commas, not {text[:40]!r}")
    return seqs


@dataclass(frozen=True, slots=True)
class _Copy:
    """A command received again whose answer is on record: not run, not answered."""

    id: str


def _answered_on_record(conn: sqlite3.Connection, cid: str, since: datetime) -> bool:
    """Whether the audit table holds an answer to the command with this id, written `since`
    (no earlier than its acceptance could be: Commands._accepted_after). Searched only
    for an id found used (command_nonces), within BEGIN IMMEDIATE on the decision worker: the
    audit table has no index to find a command's rows by, and the whole of it (years of openings)
    was read there while the cars waited; the rows since then are found by their time (audit_at)."""
    marks = ", ".join("?" * len(_ANSWERED))
    row = conn.execute(
        f"SELECT 1 FROM audit WHERE at >= ? AND action IN ({marks}) AND instr(detail, ?) > 0 LIMIT 1",
        (to_db(since), *_ANSWERED, f'"id": {json.dumps(cid)}'),  # as its rows have it
    ).fetchone()
    return row is not None


def _its_answers(rows: list[tuple[str, str]], signed: str) -> set[str]:
    """Of the audit rows under a command's id (action, detail, in order) the actions that can be
    the command's own: from its acceptance on where it was accepted (an answer before that was
    another command's, refused with the id left free); where not, those that used the id, and the
    refusals that left it free of this command: what their signature covered (_SIGNED) is what
    this one's covers (`signed`), or the row, written by an older release, does not say. A row cut short
    (audit.detail holds 500 characters) is taken for one that used the id, unless what its signature
    covered is still readable in it and is another command's (Review 59r: an id and a name full of
    characters JSON escapes pushed a refusal's row past 500 once it named its digest)."""
    accepted = [i for i, (action, _) in enumerate(rows) if action == "command_accepted"]
    if accepted:
        return {action for action, _ in rows[accepted[-1] :]}
    actions: set[str] = set()
    for action, detail in rows:
        try:
            reply = json.loads(detail) if action == "command_refused" else None
        except ValueError:
            cut = _SIGNED_IN_CUT_ROW.search(detail or "")
            if cut is not None and cut[1] != signed:
                continue  # another command's refusal, cut short
            reply = None
        free = reply if isinstance(reply, dict) and reply.get("code") not in _REFUSALS_USING_THE_ID else None
        if free is None or free.get(_SIGNED, signed) == signed:
            actions.add(action)
    return actions


def _storage_failed(cmd: Command, exc: sqlite3.Error, data_dir: Path) -> dict[str, Any]:
    """The answer to a command accepted whose action was refused for want of storage: its fix by
    the cause, as the gateway's journal and the API's 503 word it (only a full disk is freed)."""
    return {
        "id": cmd.id,
        "name": cmd.name,
        "ok": False,
        "code": "storage_failed",
        "message": f"not done: the gateway could not store its record, and nothing of it was changed: {exc}",
        "fix": f"{_storage_fix(exc, data_dir)}; then send the command again",
    }


def _storage_fix(exc: sqlite3.Error, data_dir: Path) -> str:
    return storage_fix(storage_cause(exc, data_dir), data_dir)


def _id_used(cid: str, name: str | None) -> CommandRefused:
    """A command signed under an id used already that is no copy of one answered under it: the
    centre signed it again there, after a refusal that came once the id was used (`bad_args` for a
    lane the site does not have, say: Commands._execute). Answered, so that it does not wait for
    ever; never run, since the id is used once."""
    return CommandRefused(
        "replayed",
        f"command {cid}: its id was used already, by a command answered before; this one is not run",
        cid,
        name,
        verified=True,
        fix="send it again under a new id",
    )


def _cut_short(cid: str) -> str:
    return (
        f"command {cid} was accepted before the gateway stopped, which came before its reply: it "
        f"is not run again, and {_NOT_KNOWN}"
    )


class Commands:
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

    def _execute(self, cmd: Command) -> dict[str, Any]:
        """Raises NotFound or Refused (the command cannot be done) or GatewayError (a relay)."""
        # The centre's operator types it (masked already, as verify took it): it goes to the audit
        # trail and back up in the lane's record.
        reason = cmd.args.get("reason", "").strip() or f"remote command {cmd.id}"
        lane = cmd.args.get("lane", "")
        if cmd.name == "open_lane":
            self.gw.by_hand.open_lane(lane, cmd.actor, reason)
            return {"lane": lane}
        if cmd.name == "set_lane_mode":
            self.gw.by_hand.set_lane_mode(lane, cmd.args["mode"], cmd.actor, reason)
            return {"lane": lane, "mode": cmd.args["mode"]}
        if cmd.name == "send_again":
            return self._send_again(cmd.args["seqs"], cmd.actor)
        if cmd.name == "acknowledge_alarm":
            return self._acknowledge_alarm(cmd)
        self._resync(reason)
        return {"resync": "requested"}

    def _acknowledge_alarm(self, cmd: Command) -> dict[str, Any]:
        """As a guard's acknowledgement (runtime/alarm_acks.py), by the centre's actor; its note
        masked as his is (store/alarms.py acknowledge_alarm)."""
        alarm_id = alarm_id_from(cmd.args["alarm_id"])
        note = cmd.args.get("note", "")
        if len(note) > NOTE_MAX:
            raise Refused(f"note: {len(note)} characters, at most {NOTE_MAX}", fix="say it shorter")
        run = acknowledging(self.gw, alarm_id, cmd.actor, note, cmd.args.get("alarm_stream"))
        done = self.gw.on_worker(run).result()
        return {"alarm_id": alarm_id, **{key: done[key] for key in ("kind", "source", "closed")}}

    def _send_again(self, wanted: str, actor: str) -> dict[str, Any]:
        """Set-aside records put back in line: "all", or their seqs separated by commas."""
        seqs = None if wanted.strip() == "all" else _seqs(wanted)
        done = self.gw.on_worker(lambda conn: send_again(conn, seqs, self.gw.now(), actor)).result()
        missing = sorted(set(seqs or []) - set(done))
        if seqs and not done:
            raise NotFound(f"not set aside: seq {seq_runs(missing)}")
        return {
            "sent_again": seq_runs(done),
            "sent_again_count": len(done),
            "not_set_aside": seq_runs(missing),
        }

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
