"""Building each lane's devices from the config. New drivers register a factory here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.base import Display, Relay, Source
from drivers.health import DeviceHealth
from drivers.simulated import Chooser, SimulatedDisplay, SimulatedRelay, SimulatedSource
from gateway.config.models import Device, SiteConfig

# A chooser for each simulated source, given the device and its lane; the demo supplies traffic.
ChooserFor = Callable[[Device], Chooser]


@dataclass
class LaneDevices:
    sources: list[Source] = field(default_factory=list)
    relays: list[Relay] = field(default_factory=list)
    displays: list[Display] = field(default_factory=list)


@dataclass
class Devices:
    lanes: dict[str, LaneDevices]
    health: list[DeviceHealth]

    def sources(self) -> list[Source]:
        return [s for lane in self.lanes.values() for s in lane.sources]


def _nothing() -> None:
    return None


def build_devices(cfg: SiteConfig, chooser_for: ChooserFor | None = None) -> Devices:
    lanes = {lane.id: LaneDevices() for lane in cfg.lanes}
    health = []
    for device in cfg.devices:
        h = DeviceHealth(device=device.id, kind=device.kind, lane=device.lane, driver=device.driver)
        health.append(h)
        slot = lanes[device.lane]
        if device.kind in ("reader", "camera"):
            choose = chooser_for(device) if chooser_for else _nothing
            slot.sources.append(SimulatedSource(h, device.per_minute, choose))
        elif device.kind == "relay":
            slot.relays.append(SimulatedRelay(h, device.pulse_log))
        else:
            slot.displays.append(SimulatedDisplay(h))
    return Devices(lanes, health)
