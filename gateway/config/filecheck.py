"""What `gateway check-config` warns about: things the config names that this box lacks now.

A config may be written before the hardware is plugged in or the certificates are copied over, so
none of this makes the config bad: the gateway starts and marks a missing device offline. But an
installer's one check before `systemctl start` should say so.
"""

from __future__ import annotations

from pathlib import Path

from gateway.config.models import SiteConfig
from gateway.sync.command_key import key_problem


def warnings(cfg: SiteConfig) -> list[str]:
    found: list[str] = []
    files: list[tuple[str, Path | None]] = [
        ("mqtt.password_file", cfg.mqtt.password_file if cfg.mqtt.enabled else None),
        ("mqtt.ca_file", cfg.mqtt.ca_file if cfg.mqtt.enabled else None),
        ("mqtt.cert_file", cfg.mqtt.cert_file if cfg.mqtt.enabled else None),
        ("mqtt.key_file", cfg.mqtt.key_file if cfg.mqtt.enabled else None),
        ("http.tls_cert_file", cfg.http.tls_cert_file),
        ("http.tls_key_file", cfg.http.tls_key_file),
    ]
    for name, path in files:
        if path is not None and _missing(path):
            found.append(f"{name}: {path} does not exist on this box (copy it there before starting)")
    problem = key_problem(cfg.command_key_path) if cfg.mqtt.enabled else None
    if problem is not None:
        found.append(f"mqtt.command_key_file: {problem}")
    for i, device in enumerate(cfg.devices):
        port = getattr(device, "port", None)
        if isinstance(port, str) and port.startswith("/dev/") and not Path(port).exists():
            found.append(
                f"devices[{i}] {device.id}: {port} is not on this box now (plug it in, or check the "
                "port: `ls /dev/serial/by-id/`); the gateway starts and shows it offline"
            )
    found += _one_way_passback(cfg)
    if cfg.http.port < 1024:
        found.append(
            f"http.port: {cfg.http.port} is below 1024, where the systemd service (no privileges) "
            "cannot listen: use 1024 or more (e.g. 8080)"
        )
    return found


def _one_way_passback(cfg: SiteConfig) -> list[str]:
    """Hard anti-passback refuses a second entry with no exit between: where people (or vehicles)
    have entrances but no exit lane, nobody is ever seen leaving, so every second entry is refused."""
    if cfg.policy.anti_passback != "hard":
        return []
    found = []
    for kind in ("pedestrian", "vehicle"):
        ways = {lane.direction for lane in cfg.lanes if lane.type == kind}
        if ways == {"entrance"}:
            entrances = ", ".join(lane.id for lane in cfg.lanes if lane.type == kind)
            found.append(
                f"policy.anti_passback: hard, but no {kind} lane is an exit: nobody is seen leaving, so "
                f"every second entry at {entrances} is refused (anti_passback); add an exit reader "
                'as a lane with direction = "exit", or set anti_passback = "soft" (admit and flag)'
            )
    return found


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # in a folder the checking user may not read, though the gateway's user may
        return False
