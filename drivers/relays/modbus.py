"""Modbus RTU relay and input modules on RS-485, through pymodbus.

Several modules may share one bus (one serial port): a ModbusBus owns the client and one thread,
so requests never interleave and pulse() never waits for the bus. Each module syncs its relay coil
to the state PulseControl wants and polls its discrete inputs, reporting changes as lane inputs;
ModbusBus._next says in which order (relay changes first, polls last). Whatever one module
answers, or fails to, puts that module offline and never stops the bus thread: the other barriers
go on. Whether a pulse opened the barrier, a hold holds it, or a release let it down, is known once
the bus has written it (pulse_written, hold_written, release_written; a release not taken, once it
is: off_written): a module's health is its last request's, older than the pulse. A pulse judged not
taken is over: the module never takes it later.
A relay-only module's coil read back not as written (the module restarted, or was switched by hand)
is written the state wanted again (_read_back). A pulse or hold asked while the coil is on as
written is judged by the module too, never by what the gateway believes (_confirm_on).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.base import InputEmit, LaneInput
from drivers.health import DeviceHealth
from drivers.relays.control import PulseControl
from drivers.serialport import Backoff, explain

log = logging.getLogger(__name__)

# (input, discrete input address, inverted): barrier_closed is wired as barrier_open inverted.
InputMap = list[tuple[LaneInput, int, bool]]

READ_COILS, READ_INPUTS, WRITE_COIL = 1, 2, 5  # Modbus function codes
# Inputs further apart than this are read in separate requests: Modbus allows 2000 in one, but a
# long reply ties up the bus (2000 inputs take 0.26 s at 9600 baud) and reads addresses the
# module may not have.
READ_SPAN = 256
# Added to the timeouts a pulse's outcome may wait for (ModbusBus.answer_within_s): the answers
# themselves, and the bus thread's turn.
ANSWER_SLACK_S = 0.5


def input_map(
    car_present: int | None,
    barrier_open: int | None,
    barrier_closed: int | None,
    exit_button: int | None = None,
) -> InputMap:
    found: InputMap = []
    if car_present is not None:
        found.append(("car_present", car_present, False))
    if exit_button is not None:  # before the door's contact: pushed open in the same poll, expected
        found.append(("exit_button", exit_button, False))
    if barrier_open is not None:
        found.append(("barrier_open", barrier_open, False))
    if barrier_closed is not None:
        found.append(("barrier_open", barrier_closed, True))
    return found


def read_spans(addresses: list[int], most: int = READ_SPAN) -> list[tuple[int, int]]:
    """(first input, count) of each request reading `addresses`, none longer than `most`."""
    spans: list[tuple[int, int]] = []
    for address in sorted(set(addresses)):
        if spans and address - spans[-1][0] < most:
            spans[-1] = (spans[-1][0], address - spans[-1][0] + 1)
        else:
            spans.append((address, 1))
    return spans


class ModbusBus:
    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        timeout_s: float = 0.3,
        reconnect_max_s: float = 2.0,
        client_factory: Callable[..., Any] = ModbusSerialClient,
    ):
        self.port = port
        self.timeout_s = timeout_s  # for modules that give none of their own
        self._client = client_factory(
            port,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout_s,
            retries=0,
            reconnect_delay=0,  # this class reconnects, with its own backoff
        )
        self._modules: list[ModbusModule] = []
        self._backoff = Backoff(0.1, reconnect_max_s)
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._connected = False
        self._device: int | None = None  # the open adapter's device number, if known (_gone)
        # The adapter failed to open, or was lost, and has not come back: nothing is written now.
        # Not before the first try: a pulse asked for as the gateway starts is written once it opens.
        self.down = False
        self._thread: threading.Thread | None = None

    def add(self, module: ModbusModule) -> None:
        self._modules.append(module)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"modbus-{self.port}", daemon=True)
            self._thread.start()

    def poke(self) -> None:
        self._poke.set()

    def answer_within_s(self) -> float:
        """The longest a relay change waits for its answer (_next): the request on the wire, then
        every relay module's change, and each one's one retry."""
        timeouts = [(m.timeout_s or self.timeout_s, m.has_relay) for m in self._modules]
        longest = max((t for t, _ in timeouts), default=self.timeout_s)
        return longest + 2 * sum(t for t, relay in timeouts if relay) + ANSWER_SLACK_S

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._client.close()
        for module in self._modules:
            module.settle_pulses(False)  # none is written now

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._connected and not self._connect():
                self._stop.wait(self._backoff.next())
                continue
            wait = min((m.next_poll for m in self._modules), default=time.monotonic() + 1.0)
            self._poke.wait(max(0.0, wait - time.monotonic()))
            self._poke.clear()
            if self._stop.is_set():
                break
            gone = self._gone()
            if gone:
                self._lost(gone)
                continue
            try:
                answered = self._service_all()
            except (ConnectionException, OSError) as exc:
                self._lost(self._gone() or self._failing(exc))
                # An adapter that opens but fails every request must not be reopened in a loop.
                self._stop.wait(self._backoff.next())
                continue
            if answered:
                self._backoff.reset()
        if self._connected:
            self._release_all()

    def _service_all(self) -> bool:
        """One pass over the bus, in the order _next gives. True if any module answered."""
        answered, failed = False, set[ModbusModule]()
        now = time.monotonic()
        due = [m for m in self._modules if m.next_poll <= now]
        while (step := self._next(due, failed)) is not None:
            module, poll = step
            self._wait_for(module)
            if module.service(self._client, poll=poll):
                answered = True
            else:
                failed.add(module)
            if module in due and (poll or module in failed):
                due.remove(module)  # polled, or not due again for a second
        return answered

    def _next(self, due: list[ModbusModule], failed: set[ModbusModule]) -> tuple[ModbusModule, bool] | None:
        """The next module to ask, and whether to poll it: the bus's one ordering rule.

        A request to a silent unit costs a whole timeout_s, so a barrier's pulse must wait at most
        for the one request already on the wire:
        1. relay changes, of every module with one waiting (changes asked for during the pass too);
        2. a change that just got no answer, sent once more after the other modules' changes (one
           request lost to noise does not lose a pulse; a second failure drops it: _failed);
        3. polls last (inputs, or a relay-only module's coil read back), of the modules due. A
           module that did not answer is due again a second after its timeout ended, however long
           its timeout_s: the others are polled in between.
        """
        waiting = [m for m in self._modules if m.has_changes]
        if waiting:
            fresh = [m for m in waiting if m not in failed]
            return (fresh or waiting)[0], False
        return (due[0], True) if due else None

    def _wait_for(self, module: ModbusModule) -> None:
        """Wait for this module's replies as long as its own timeout_s says. pymodbus reads the
        timeout from the client's comm_params for each request, and its transaction manager from
        its own copy of them: both are set."""
        for holder in (self._client, getattr(self._client, "transaction", None)):
            params = getattr(holder, "comm_params", None)
            if params is not None:
                params.timeout_connect = module.timeout_s or self.timeout_s

    def _release_all(self) -> None:
        """On stop: write the relays' last wanted state (closed modules want "off"), so a barrier
        held open does not stay up after the gateway stops."""
        for module in self._modules:
            try:
                self._wait_for(module)
                module.flush(self._client)
            except Exception as exc:  # one module's fault must not keep the others' barriers up
                log.warning(
                    "relay not released on stop device=%s error=%s: check that the barrier is down",
                    module.health.device,
                    exc,
                )

    def _connect(self) -> bool:
        try:
            ok = self._client.connect()
        except (ModbusException, OSError) as exc:
            ok, why = False, explain(self.port, exc)
        else:
            why = explain(self.port, OSError(f"cannot open {self.port}"))
        if not ok:
            self.down = True
            for module in self._modules:
                module.disconnected(why)
            return False
        self._connected, self.down = True, False  # the backoff is reset only once a module answers
        self._device = self._open_device()
        for module in self._modules:
            module.connected()
        return True

    def _open_device(self) -> int | None:
        """The device number of the port pymodbus has just opened; None if it cannot be known (a
        client that is no pyserial port)."""
        try:
            return os.fstat(self._client.socket.fileno()).st_rdev
        except (AttributeError, OSError, ValueError):
            return None

    def _gone(self) -> str | None:
        """Why the open adapter is no longer the device at `port`; None while it may still be.

        As SerialLink._gone: an adapter unplugged and plugged back between two polls leaves the
        by-id path in place, but while the old one is held open the kernel gives the new one
        another number, and pymodbus's error then names no fault ("Modbus Error: [Connection]
        ModbusSerialClient ...")."""
        try:
            now = os.stat(self.port).st_rdev
        except FileNotFoundError:
            return f"{self.port} disappeared (unplugged?): check the RS-485 adapter"
        except OSError as exc:
            return explain(self.port, exc)
        if self._device is not None and now != self._device:
            return f"{self.port} was unplugged and plugged back: check the cable and its USB plug"
        return None

    def _failing(self, exc: Exception) -> str:
        """The words for an adapter still there whose requests fail. pymodbus turns the port's own
        error into a ConnectionException that says nothing of it."""
        if isinstance(exc, OSError):
            return explain(self.port, exc)
        return f"{self.port}: the adapter stopped answering ({exc}): check its USB plug and hub"

    def _lost(self, why: str) -> None:
        self._connected, self.down = False, True
        self._client.close()
        for module in self._modules:
            module.health.count("disconnects")
            module.disconnected(why)


class ModbusModule:
    """One module (unit id) on a bus: an optional relay coil and optional discrete inputs."""

    def __init__(
        self,
        bus: ModbusBus,
        health: DeviceHealth,
        unit: int,
        coil: int | None,
        inputs: InputMap,
        poll_s: float = 0.1,
        timeout_s: float | None = None,
    ):
        self.health = health
        self.timeout_s = timeout_s  # None: the bus's
        self._bus = bus
        self._unit = unit
        self._coil = coil
        self._inputs = inputs
        self._reads = read_spans([address for _, address, _ in inputs])
        self._poll_s = poll_s
        self._control = PulseControl(self._want, health) if coil is not None else None
        self._sent: bool | None = None  # what the coil was last set to; None: not known
        # Every on/off PulseControl asked for while the bus is up, in order: a pulse shorter than
        # the bus is busy still closes the relay, rather than being merged away into "off".
        self._changes: deque[bool] = deque()
        self._silent = False  # the last request got no answer: a failing change is not sent again at once
        self._differs = False  # the last read-back found the coil not as written: warned once
        # The outcomes of the pulses asked for and not yet settled (pulse_written). The lock makes a
        # pulse's outcome and its change one step for the bus thread (_write_coil).
        self._outcomes: list[Future[bool]] = []
        self._releases: list[Future[bool]] = []  # the same, of the releases (release_written)
        self._offs: list[Future[bool]] = []  # the releases not taken, till "off" is written (off_written)
        self._outcomes_lock = threading.Lock()
        self._state: dict[LaneInput, bool] | None = None  # None until the first poll
        self._on_input: InputEmit | None = None
        self.next_poll = 0.0
        bus.add(self)
        bus.start()

    # Relay
    def pulse(self, seconds: float, ref: str = "") -> None:
        self.pulse_written(seconds, ref)

    def pulse_written(self, seconds: float, ref: str = "") -> Future[bool]:
        """pulse(), and whether the module took it: True once it answered the write of its coil
        "on" (or, for a pulse during a pulse or a hold, that its coil is on: _confirm_on); False
        once the write failed twice (one request lost to noise is sent again), the bus is down (a
        pulse is not queued for its return), or it stops. Settled on the bus thread, within
        answer_within_s.
        A pulse not taken is over: never written later on its own (settle_pulses)."""
        control = self._require_control()
        return self._written(lambda: control.pulse(seconds))

    def hold_written(self) -> Future[bool]:
        """hold(), and whether the module took it, as pulse_written's outcome: a module whose
        adapter is unplugged never raises, so a hold is judged by its write too. Not taken, the hold
        is still wanted: the caller releases it (HandLanes)."""
        control = self._require_control()
        return self._written(control.hold)

    def release_written(self) -> Future[bool]:
        """release(), and whether the module took it: True once it answered the write of its coil
        "off" (or the coil was off as written), False as a pulse's is. Its adapter unplugged,
        release() raises nothing, and a lane held open was reported released with its barrier up.
        Not taken, the release is still wanted: "off" is written once the module answers again."""
        control = self._require_control()

        def release() -> None:
            control.release()
            # "off" written (or found written) even if the coil is off already: settled by it, not
            # by the coil after a pulse asked meanwhile.
            self._changes.append(False)

        return self._written(release, off=True)

    def off_written(self) -> Future[bool]:
        """After a release not taken (release_written False: its adapter unplugged, the module
        silent), still wanted: True once the module answers the coil written (or read back) "off",
        whenever that is (the adapter plugged back, the module powered again); False only if the
        relay is closed first. Not settled while the bus is down or the module silent. The release
        was already reported failed, the lane still shown held: this tells the caller when the
        barrier did come down (HandLanes), a hold asked meanwhile being the caller's to tell."""
        self._require_control()
        outcome: Future[bool] = Future()
        with self._outcomes_lock:
            self._offs.append(outcome)
        return outcome

    def _written(self, ask: Callable[[], None], off: bool = False) -> Future[bool]:
        outcome: Future[bool] = Future()
        with self._outcomes_lock:
            (self._releases if off else self._outcomes).append(outcome)
            ask()
        if self._bus.down:
            self.settle_pulses(False)
        else:
            self._bus.poke()
        return outcome

    @property
    def answer_within_s(self) -> float:
        return self._bus.answer_within_s()

    @property
    def has_relay(self) -> bool:
        return self._control is not None

    def hold(self) -> None:
        self._require_control().hold()

    def release(self) -> None:
        self._require_control().release()

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
        with self._outcomes_lock:
            offs, self._offs = self._offs, []
        for off in offs:
            if not off.done():
                off.set_result(False)

    # Sensor
    def watch(self, on_input: InputEmit) -> None:
        """Report each input's state once it is first known (now, or at the first poll), then its
        changes: a barrier already open when the gateway starts is watched too."""
        self._on_input = on_input
        for name, active in (self._state or {}).items():
            on_input(name, active)

    def stop(self) -> None:
        self._on_input = None

    def _require_control(self) -> PulseControl:
        if self._control is None:
            raise RuntimeError(f"{self.health.device} has no relay coil configured")
        return self._control

    def _want(self, on: bool) -> None:
        self._changes.append(on)
        self._bus.poke()  # the bus thread writes it; pulse() does not wait for RS-485

    @property
    def has_changes(self) -> bool:
        """A relay on/off is waiting to be written, or a pulse's (or release's) outcome to be settled."""
        return bool(self._changes) or bool(self._outcomes) or bool(self._releases)

    def settle_pulses(self, taken: bool) -> None:
        """The pulses (and holds) not settled yet: taken or not. Not taken, the pulses are over in
        PulseControl, with their outcomes in one step (a pulse asked for after it is not ended):
        left wanted, the coil was written "on" at the next answer (_write_coil writes what is wanted
        after a failed write or a reconnect), opening the door a second after the guard and the
        board were told it did not. Not taken, the releases not settled yet are not either (nothing
        is written now). Their callbacks run on this thread, outside the lock (one may pulse again)."""
        releases: list[Future[bool]] = []
        with self._outcomes_lock:
            outcomes, self._outcomes = self._outcomes, []
            if not taken:
                releases, self._releases = self._releases, []
            if outcomes and not taken and self._control is not None:
                self._control.not_taken()
        for outcome in outcomes:
            outcome.set_result(taken)
        for release in releases:
            release.set_result(False)

    def _released(self) -> None:
        """The coil is off as the module answered: the releases asked for are done, and those not
        taken earlier too (off_written)."""
        with self._outcomes_lock:
            releases, self._releases = self._releases, []
            offs, self._offs = self._offs, []
        for release in [*releases, *offs]:
            release.set_result(True)

    def connected(self) -> None:
        self._sent = None  # a module may have restarted: write the coil again
        # Pulses asked for while the bus was down are over: write only the state wanted now.
        self._changes.clear()
        self._silent = False
        self.next_poll = 0.0

    def disconnected(self, why: str) -> None:
        self._changes.clear()  # not kept for later: see connected()
        self._forget_inputs()
        self.health.set_offline(why)
        self.settle_pulses(False)

    def _forget_inputs(self) -> None:
        """Offline, the module's inputs are no longer known: the lane drops its loop then
        (LaneInputs.device_offline), and _poll reports changes only, so a loop still on when the
        module answers again was never reported again (a trigger camera blind behind a stuck
        loop). Forgotten, the first poll once back reports every input, as at start: the lane
        takes a loop on again as the same car (LaneInputs.car_present), and a barrier contact
        still open as no new opening (LaneInputs.barrier)."""
        self._state = None

    def service(self, client: Any, *, poll: bool) -> bool:
        """On the bus thread: write the relay changes waiting; with `poll`, also bring the coil to
        the state wanted and read the inputs. True if the module answered. ModbusBus._next says
        when each module is asked."""
        now = time.monotonic()
        try:
            if self._control is not None:
                self._write_coil(client)
            if poll:
                if self._read(client):
                    self._write_coil(client)  # at once, not a second later: a held barrier is down
                self.next_poll = max(self.next_poll, now) + (self._poll_s if self._inputs else 1.0)
        except (ConnectionException, OSError):
            raise  # the adapter, not this module: the bus reconnects
        except ModbusIOException as exc:
            return self._failed(
                f"does not answer: {exc}; check its address (unit), wiring A/B and termination"
            )
        except Exception as exc:  # a wrong reply, or a request pymodbus refuses: this module alone
            return self._failed(
                f"gives a reply the gateway cannot use: {exc}; check its address (unit), its coil and "
                "input addresses (the table in its manual), and the wiring A/B and termination"
            )
        self._silent = False
        self.health.seen()
        return True

    def _failed(self, why: str) -> bool:
        self.health.count("errors")
        self._sent = None  # not known now: written again once the module answers
        # Counted from now, after the timeout: with timeout_s >= 1 s, counted from the request the
        # unit would be due again at once and asked on every pass.
        self.next_poll = time.monotonic() + 1.0
        if (self._changes or self._outcomes) and not self._silent:
            # It answered the request before: a relay change (or a pulse's _confirm_on) lost to
            # noise on the line is sent again at once, after the other modules' changes
            # (ModbusBus._next), or the barrier's pulse is lost whole. A second failure in a row
            # backs off like any silent module.
            self._silent = True
            return False
        self._changes.clear()
        self._silent = True
        self._forget_inputs()
        self.health.set_offline(f"unit {self._unit} on {self._bus.port} {why}")
        self.settle_pulses(False)
        return False

    def flush(self, client: Any) -> None:
        """On the bus thread as it stops: write what the coil should be now."""
        if self._control is not None:
            self._write_coil(client)

    def _write_coil(self, client: Any) -> None:
        assert self._control is not None
        while True:
            if self._changes:
                target = self._changes[0]  # dropped once written: a failed write is retried
            elif self._sent != self._control.wanted:
                target = self._control.wanted  # after a reconnect or a failed write
            elif self._sent is True and self._outcomes:
                self._confirm_on(client)
                continue
            elif self._settled():
                return
            else:
                continue  # a pulse came with a change to write
            if target != self._sent:
                self._check(client.write_coil(self._coil, target, device_id=self._unit), WRITE_COIL)
                self._sent = target
                self.health.count("coil_writes")
            if target:
                self.settle_pulses(True)  # the coil is on as the module answered: the barrier opens
            else:
                self._released()
            if self._changes:
                self._changes.popleft()

    def _confirm_on(self, client: Any) -> None:
        """The pulses (and holds) asked while the coil is on as written: PulseControl wrote nothing
        for them, yet the module may have restarted since with its coil off (a power flicker
        between two cars nose to tail; the coil is read back once a second only). Told taken on
        that belief, the guard's second 开闸 was shown opened at a shut barrier and the held car let
        out on record. So the module answers first: a relay-only module's coil is read back (found
        off, _read_back counts and warns, and the loop writes "on" for them, that answer their
        outcome); a module with inputs, whose coil is never read back (hardware.md), is written "on"
        again, which does not switch a coil that is on. Those asked during the request wait for
        the next one."""
        with self._outcomes_lock:
            asked = list(self._outcomes)
        if self._inputs:
            self._check(client.write_coil(self._coil, True, device_id=self._unit), WRITE_COIL)
            self.health.count("coil_writes")
        elif self._read_coil(client):
            return  # read back off: not taken yet
        with self._outcomes_lock:
            self._outcomes = [outcome for outcome in self._outcomes if outcome not in asked]
        for outcome in asked:
            if not outcome.done():  # settled meanwhile, not taken (the bus went down)
                outcome.set_result(True)

    def _settled(self) -> bool:
        """With every change written, the pulses still waiting are settled by the coil as it is:
        off (a pulse over before the bus came back: not written); the releases, off as written.
        False if a pulse has just queued a change, or was asked while the coil is on: written, or
        confirmed (_confirm_on), first."""
        with self._outcomes_lock:
            if self._changes or (self._sent is True and self._outcomes):
                return False
            outcomes, self._outcomes = self._outcomes, []
            releases, self._releases = self._releases, []
            offs: list[Future[bool]] = []
            if self._sent is False:  # on (a pulse, a hold asked since): still waiting for "off"
                offs, self._offs = self._offs, []
        for outcome in outcomes:
            outcome.set_result(self._sent is True)
        for release in releases:
            release.set_result(self._sent is False)
        for off in offs:
            off.set_result(True)
        return True

    def _read(self, client: Any) -> bool:
        """Poll the inputs, or read a relay-only module's coil back. True if the coil must be
        written again."""
        if self._inputs:
            # Not its coil too: a module with inputs is polled every poll_s, and hardware.md says
            # its coil is not read back.
            self._poll(client)
        elif self._control is not None:
            # A relay-only module is read back now and then, so a dead one shows offline and one
            # that dropped its coil is set again.
            return self._read_coil(client)
        return False

    def _read_coil(self, client: Any) -> bool:
        """Read the coil back: True if it must be written again (_read_back)."""
        reply = self._check(client.read_coils(self._coil, count=1, device_id=self._unit), READ_COILS, 1)
        return self._read_back(bool(reply.bits[0]))

    def _read_back(self, on: bool) -> bool:
        """The coil as the module says it is, against what was last written: True if they differ.

        Only this thread writes the coil, and _sent is what it wrote before this read, so a read
        racing a pulse (asked for, or ending, on another thread) still agrees with it: they differ
        only if the module restarted (a power flicker: relay modules come up with every coil off)
        or someone switched it (a vendor tool, a second master on the bus). The state wanted is
        written again then, as after a replug: a held barrier opens again."""
        assert self._control is not None
        if self._sent is None or on == self._sent:
            self._differs = False  # not known (written at the next write), or as written
            return False
        self.health.count("coil_mismatches")
        # Logged once, then quietly while it stays so (a module that ignores its writes would fill
        # the log every second).
        (log.debug if self._differs else log.warning)(
            "relay coil read back %s, written %s device=%s unit=%s: the module restarted (its power?) "
            "or someone switched it; writing it again",
            "on" if on else "off",
            "on" if self._sent else "off",
            self.health.device,
            self._unit,
        )
        self._differs = True
        if not on:
            with self._outcomes_lock:  # a pulse or hold asked now queues its change under it
                if not self._changes and not self._outcomes:
                    # A pulse the module dropped midway is over: its barrier was triggered when
                    # the coil closed, and closing it again would trigger it again (a barrier that
                    # toggles on each contact would come down). A hold is kept: written again.
                    # One asked since the coil was last confirmed on (its outcome still waiting)
                    # never had it on: "on" is written for it (_confirm_on).
                    self._control.not_taken()
        self._sent = on  # as it is now: only a state that differs from it is written
        return True

    def _poll(self, client: Any) -> None:
        bits: dict[int, bool] = {}
        for first, count in self._reads:
            reply = self._check(
                client.read_discrete_inputs(first, count=count, device_id=self._unit), READ_INPUTS, count
            )
            bits.update(zip(range(first, first + count), map(bool, reply.bits), strict=False))
        state: dict[LaneInput, bool] = {}
        for name, address, inverted in self._inputs:
            state[name] = bits[address] != inverted
        before, self._state = self._state, state
        if self._on_input is None:
            return
        for name, active in state.items():
            if before is None or before.get(name) != active:  # the first poll: every state
                self._on_input(name, active)

    @staticmethod
    def _check(reply: Any, function: int, bits: int = 0) -> Any:
        """The reply, if it answers the request made; ModbusException if not."""
        if reply.isError():
            raise ModbusException(f"error reply {reply}")
        if reply.function_code != function:
            raise ModbusException(
                f"a reply to function {reply.function_code} came to a function {function} request"
            )
        if bits and len(reply.bits) < bits:
            raise ModbusException(f"the reply holds {len(reply.bits)} inputs, asked for {bits}")
        return reply
