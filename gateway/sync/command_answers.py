"""A remote command's answers (commands.py): which audit rows under its id are its own, and the
words of the answers given for it without running it, or when its record could not be stored."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.store.database import storage_cause, storage_fix
from gateway.sync.command_verify import Command, CommandRefused
from gateway.timefmt import to_db

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
