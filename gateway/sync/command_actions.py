"""What each remote command does once accepted (commands.py), and the code it is answered with
when it cannot be done."""

from __future__ import annotations

from typing import Any

from gateway.errors import Conflict, GatewayError, NotFound, Refused
from gateway.runtime.alarm_acks import acknowledging, alarm_id_from
from gateway.runtime.gateway import Gateway
from gateway.store.set_aside import send_again
from gateway.sync.command_verify import Command
from gateway.sync.replies import seq_runs

# Commands whose NotFound is answered `not_found`: an alarm gone (retention, a new box) is no
# malformed command. The others' (a lane the site does not have, seqs not set aside) stay
# `bad_args`, as docs/mqtt.md has long said.
_NOT_FOUND_ANSWERED = frozenset({"acknowledge_alarm"})
# As long as a guard's note (api/site.py Ack).
NOTE_MAX = 200


def _failure_code(cmd: Command, exc: GatewayError) -> str:
    """The code a command that could not be done is answered with: already_done (an alarm
    acknowledged already: `by` and `at` say by whom and when), not_found (_NOT_FOUND_ANSWERED),
    bad_args for what else it named wrong, device_failed (a relay)."""
    if isinstance(exc, Conflict) and exc.http_code == "already_done":
        return "already_done"
    if isinstance(exc, NotFound) and cmd.name in _NOT_FOUND_ANSWERED:
        return "not_found"
    return "bad_args" if isinstance(exc, NotFound | Refused) else "device_failed"


def _seqs(text: str) -> list[int]:
    try:
        seqs = [int(part) for part in text.split(",")]
    except ValueError:
        seqs = []
    if not seqs or any(seq < 1 for seq in seqs):
        raise Refused(f"seqs must be `all` or record seqs separated by commas, not {text[:40]!r}")
    return seqs


class CommandActions:
    """Part of Commands (commands.py): the commands' actions, on the gateway's lanes, alarms and
    records set aside."""

    gw: Gateway
    _resync: Any  # reason -> None

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
