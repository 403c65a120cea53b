"""The runtime: presentations in, decisions recorded, then gates opened and everyone told.

One worker thread owns the write connection (worker.py), so decisions are taken one at a time in
arrival order: drivers -> queue -> lookup -> decide -> record (one transaction) -> relay, display,
listeners. Lanes opened, held or closed by hand are hand_lanes.py's; device alarms device_alarms.py's;
the passages of cars let out at vehicle exits, judged by their relays' pulses, exit_pulses.py's.

Gateway's other parts: gateway_inputs.py (what devices hand in), gateway_which_car.py (which car a
presentation is), gateway_deciding.py (the batch, its transaction and records), gateway_acting.py
(relays, displays and listeners after the commit), on gateway_base.py (shared state, worker, clock).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections import deque
from pathlib import Path

from drivers.cameras.snapshots import SnapshotWriter
from gateway.config.closed_ahead import closed_management_ahead
from gateway.config.models import SiteConfig
from gateway.config.service_user import SERVICE_USER, config_given, first_admin_as
from gateway.events import AccessEvent
from gateway.parking.operations import Operations, worker_of
from gateway.parking.retention import Room, make_room
from gateway.parking.service import ParkingDesk
from gateway.privacy import Secrets
from gateway.runtime.again import DecidedAgain
from gateway.runtime.cars_leaving import CarsLeaving
from gateway.runtime.config_edits import say_at_start
from gateway.runtime.devices import ChooserFor, Devices, build_devices
from gateway.runtime.event_clips import EventClips
from gateway.runtime.exit_buttons import ExitButtons
from gateway.runtime.exit_pulses import ExitPulses
from gateway.runtime.gateway_base import Listener
from gateway.runtime.gateway_deciding import Deciding
from gateway.runtime.gateway_inputs import GatewayInputs
from gateway.runtime.hand_lanes import HandLanes
from gateway.runtime.hand_opens import WaitingRecords
from gateway.runtime.kept_records import DevicesSettled
from gateway.runtime.kept_sessions import KeptSessions
from gateway.runtime.lane_boards import ExitPassages, LaneBoards
from gateway.runtime.lanes import LaneInputs
from gateway.runtime.logsetup import log_in_zone
from gateway.runtime.outbox_stream import check_outbox_stream
from gateway.runtime.storage_state import StorageState
from gateway.runtime.worker import Checkpointer, DecisionWorker
from gateway.site import Site
from gateway.store.accounts import list_accounts
from gateway.store.card_forms import RegisteredCards
from gateway.store.database import DB_NAME, date_in_site_zone, open_database, use_incremental_vacuum
from gateway.store.lanes import modes_on_record
from gateway.web.i18n import translator

__all__ = ["SWITCH_INTERVAL_S", "Gateway", "Listener"]

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001


def _room_to_start(cfg: SiteConfig) -> Room | None:
    """A data disk full of snapshots (the gateway was down, so its disk guard was) would keep the
    database from opening: the oldest snapshots go first, as the disk guard would delete them.
    What went is reported by the first disk guard (a log line, and the alarm if footage was lost)."""
    ret, data_dir = cfg.retention, cfg.site.data_dir
    if not data_dir.is_dir():
        return None  # a new site: open_database makes it, or says why it cannot
    room = make_room(data_dir, data_dir / "snapshots", ret.prune_free_percent, ret.alarm_free_percent)
    return room if room.plan.delete else None


class Gateway(Deciding, GatewayInputs):
    def __init__(self, cfg: SiteConfig, chooser_for: ChooserFor | None = None):
        self.site = Site.from_config(cfg)
        log_in_zone(self.site.tz)  # the log's times from here on are the site's, as the pages'
        self.data_dir = cfg.site.data_dir
        self.db_path = self.data_dir / DB_NAME
        start_room = _room_to_start(cfg)
        self.db = open_database(self.db_path, sync=cfg.storage.sync, service=True)
        self.conn: sqlite3.Connection = self.db.conn
        use_incremental_vacuum(self.conn, self.db_path)  # once, on a database an older version made
        date_in_site_zone(self.conn, self.site.tz)  # what a migration queued in UTC, before it goes up
        self.secrets = Secrets.load_or_create(self.data_dir)
        # Whether storage takes writes, told by every write the gateway makes (storage_state.py).
        self.storage = StorageState(self.data_dir)
        self._waiting = WaitingRecords(self.data_dir, storage=self.storage)
        # Logins storage refused (a card gone read-only): kept in memory, their records waiting.
        self.kept_sessions = KeptSessions(self._waiting, lambda run: self.on_worker(run))
        # Looked up when called: a test may wrap decide_batch.
        self.worker = DecisionWorker(
            self.conn, lambda jobs: self.decide_batch(jobs), self._waiting, storage=self.storage
        )
        self._started = False  # device changes before start() are settled by start()
        # A device's change is queued after the start's settling that did not see it, never before
        # one that did: settled as it was, then changed, in that order (start, _device_changed).
        self._changes = threading.Lock()
        self.devices: Devices = build_devices(cfg, chooser_for, on_change=self._device_changed)
        self.parking = ParkingDesk(self.site, sees=self.devices.sees, watches=self.devices.watches)
        # Which database's seqs go up from here: a new box's, or one put back on an older copy,
        # start a stream of their own; first, so that nothing is queued under a seq handed out.
        self.outbox_stream = check_outbox_stream(self.conn, self.data_dir, self.now())
        # What the config edited since left behind: slots, stays, tariff prices, the site id.
        say_at_start(self.conn, self.parking.rules.tariffs, self.site, self.now())
        # As check-config says it: a closed-management period in force or near (an old example's December).
        for warning in closed_management_ahead(cfg, self.now()):
            log.warning("%s", warning)
        if not list_accounts(self.conn):  # a new install's first start, before its first admin
            log.warning(
                "no accounts yet: nobody can log in to the guard pages (%s to any name; there is no "
                "default password); add the first admin with `%s`",
                translator(cfg.site.language)("login.failed"),  # as the login page says it
                first_admin_as(SERVICE_USER, config_given()),
            )
        # A short video of each barrier alarm and opening by hand (event_clips.py), where cameras keep them.
        self.clips = (
            EventClips(self.data_dir, self.devices.clip_cameras, self.devices.health, self.site.tz)
            if self.devices.clip_cameras
            else None
        )
        self._pulse_seconds = {lane.id: lane.pulse_seconds for lane in cfg.lanes}
        self.exit_buttons = ExitButtons(self.exit_button, self._pulse_seconds)  # 出门按钮 at doors
        self.lane_io = LaneInputs(
            self.devices,
            self.on_worker,
            self.now,
            self._barrier_alarm,
            self.exit_buttons,
            lambda lane: self.boards.arm_down(lane),  # the idle line once a barrier is down again
        )
        # Snapshots skipped or not saved are told on the camera's health; filed by the site's day.
        health_of = {h.device: h for h in self.devices.health}.get
        self.snapshots = (
            SnapshotWriter(self.data_dir, health_of=health_of, tz=self.site.tz)
            if self.devices.snapshot_quality
            else None
        )
        self._plate_match = {lane.id: lane.plate_match for lane in cfg.lanes}
        # Lanes closed or held open when it stopped: held again, or dropped if gone from the config,
        # at start (HandLanes.modes_again).
        self._modes_on_record = modes_on_record(self.conn)
        # Lanes a guard or the central server closed: nobody is admitted there until reopened.
        self.lane_modes: dict[str, str] = {
            lane: was.mode
            for lane, was in self._modes_on_record.items()
            if was.mode == "closed" and lane in self.site.lanes
        }
        # Uptime on the monotonic clock: a Pi boots on fake-hwclock's stale time and NTP steps it.
        self._up_since = time.monotonic()
        self.latencies_ms: deque[float] = deque(maxlen=10_000)
        self.decisions = 0
        self.storage_failures = 0  # decisions that could not be stored, since the start
        self.rejected = 0  # presentations with values no credential can have
        self._listeners: list[Listener] = []
        self._checkpointer = Checkpointer(self.db_path, storage=self.storage)
        # Daily reports, patrol rounds, retention and the disk guard; its writes come to the worker.
        worker = worker_of(self.on_worker)
        self.operations = Operations(
            self.site,
            self.db_path,
            self.data_dir,
            worker,
            self.now(),
            start_room=start_room,
            unwritten=self.unwritten,
            checkpoints=self._checkpointer,
            storage_failed=self.storage.failed,
        )
        self._again = DecidedAgain(  # the same car decided again at a lane
            self.devices, hard_anti_passback=self.site.policy.anti_passback == "hard"
        )
        self._again_snapshot_at = {}
        self._cards = RegisteredCards(cfg)  # a card read in another form than registered
        # Told by decisions and by hand alike; the idle line between cars (Review 66C).
        self.boards = LaneBoards(self.devices, self._idle_lines, self.lane_io.arm_watched)
        self._exits: ExitPassages[AccessEvent] = ExitPassages()  # cars let out, their pulses to come
        self._leaving = CarsLeaving(self._exits)  # cars let out, their barriers yet to confirm
        self._exit_pulses = ExitPulses(  # their passages judged by their pulses
            self.site,
            self._exits,
            self.boards,
            self.lane_io.rising,
            self.conn,
            lambda work: self.on_worker(work),  # looked up when called: a test may wrap gw.on_worker
            self.data_dir,
            self.parking,  # not_let_out looked up on it when called: a test may replace it
            self._again.not_let_out,
        )
        self.by_hand = HandLanes(
            self.site,
            self.devices,
            self.lane_io.barriers,
            lambda: self.now(),  # the gateway's clock when used (tests set gw.now)
            self.worker.submit_or_run,
            self._waiting,
            self._pulse_seconds,
            self.lane_modes,
            self.parking,  # the car a lane shows held to pay, let out by a single opening
            self._again.let_out,  # that car: one passage as it pulls away
            self.boards,
            self.opened_by_hand,  # a car let out whose pulse still waits: out on the guard's too
            self._opening_clips,
        )

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        # A reader thread woken by a card's last byte waits for the GIL up to this long while a
        # camera or the HTTP server holds it; Python's default of 5 ms would be the whole budget.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._checkpointer.start(self.conn)
        self.worker.start()
        mqtt = self.site.config.mqtt.enabled
        with self._changes:  # the devices as they are now, and the time: kept on a full disk
            self._started = True
            self._record_in_turn(DevicesSettled.of(self.devices.health, self.now(), mqtt, self._clear_after))
        self.by_hand.modes_again(self._modes_on_record)  # before the barriers' inputs are judged
        self.by_hand.tell_at_start()  # each board its lane's words: closed, or the idle line
        self.lane_io.start()
        self.boards.start()
        if self.clips is not None:
            self.clips.start()
        for lane_id, lane in self.devices.lanes.items():
            for source in lane.sources:
                source.start(self._emitter(lane_id, source.health.device))
        self.operations.start(self.now)
        log.info(
            "gateway started site=%s lanes=%d devices=%d db=%s",
            self.site.config.site.id,
            len(self.site.lanes),
            len(self.devices.health),
            self.db_path,
        )

    def stop(self) -> None:
        self.operations.stop()
        last = self.operations.last_beat(self.now())
        if last is not None:  # the worker's last job: a restart's downtime is its seconds
            self.on_worker(last)
        self.lane_io.stop()
        self.boards.stop()
        for source in self.devices.sources():
            source.stop()
        self.worker.stop()
        self._checkpointer.stop()
        self.devices.close()
        if self.snapshots is not None:
            self.snapshots.close()
        if self.clips is not None:  # after the cameras: what they gathered is written
            self.clips.stop()
        if self.worker.ended():
            self.conn.close()
        else:
            # Still inside SQLite (a write waiting on a database another process holds): closing
            # its connection under it crashes the process; the exit that follows closes it.
            log.warning("the decision worker was still writing at the stop; its database is left to the exit")
        log.info("gateway stopped")

    def alive(self) -> bool:
        """For the watchdog: the worker thread runs and has looped in the last few seconds."""
        return self.worker.alive()

    def backlog(self) -> int:
        return self.worker.backlog()

    def uptime_s(self) -> float:
        """Seconds since the gateway started, however the wall clock stepped meanwhile."""
        return time.monotonic() - self._up_since
