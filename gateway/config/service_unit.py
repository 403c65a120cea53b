"""What the service's systemd unit lets it write, for check-config to say of a data_dir outside it.

The unit (systemd/estate-gateway.service) has ProtectSystem=strict: the whole disk is read-only to
the service but for its ReadWritePaths (and its StateDirectory), so a data_dir elsewhere stops the
start (exit 78). An installer adds a folder with `sudo systemctl edit estate-gateway`, a drop-in
that the installed unit is read with; a box the unit is not installed on yet (README's Install
checks the config before copying it) is judged by the unit shipped.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from gateway.config.service_user import SERVICE_DATA_DIR

# Where README's Install copies the unit; `systemctl edit` puts its drop-ins beside it.
SERVICE_UNIT = Path("/etc/systemd/system/estate-gateway.service")
SHIPPED_UNIT = "systemd/estate-gateway.service"
SHIPPED_WRITE_PATHS = (SERVICE_DATA_DIR,)  # the shipped unit's ReadWritePaths


@dataclass(frozen=True, slots=True)
class WritePaths:
    folders: tuple[Path, ...]  # the service writes in these alone
    unit: str  # where that was read: the installed unit's files, or the shipped unit


def service_write_paths() -> WritePaths | None:
    """The folders the service may write, from the installed unit and its drop-ins in order (an
    empty ReadWritePaths= drops those before it, as systemd does), or from the shipped unit where
    none is installed; None where the installed unit does not make the disk read-only to it (no
    ProtectSystem=strict: someone's own unit), or cannot be read."""
    if not SERVICE_UNIT.is_file():
        return WritePaths(SHIPPED_WRITE_PATHS, f"its unit, {SHIPPED_UNIT}")
    drop_ins = SERVICE_UNIT.with_name(SERVICE_UNIT.name + ".d")
    files = [SERVICE_UNIT, *sorted(drop_ins.glob("*.conf"))]
    settings: dict[str, list[str]] = {"ReadWritePaths": [], "StateDirectory": [], "ProtectSystem": []}
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        section = ""
        for line in lines:
            line = line.strip()
            if line.startswith("["):
                section = line
                continue
            key, equals, value = (part.strip() for part in line.partition("="))
            if section != "[Service]" or not equals or key not in settings:
                continue
            try:
                words = shlex.split(value)
            except ValueError:
                return None
            settings[key] = settings[key] + words if words else []
    if settings["ProtectSystem"][-1:] != ["strict"]:
        return None
    # A path's "-" (skipped where missing) and "+" (inside a RootDirectory) prefixes say nothing here.
    folders = [Path(path.lstrip("-+")) for path in settings["ReadWritePaths"]]
    folders += [Path("/var/lib") / name for name in settings["StateDirectory"]]
    return WritePaths(tuple(folders), ", ".join(str(file) for file in files))


def writes_in(paths: WritePaths, folder: Path) -> bool:
    """Whether `folder` (links followed) is one of the service's folders, or in one."""
    real = Path(os.path.realpath(folder))
    allowed = [Path(os.path.realpath(p)) for p in paths.folders]
    return any(real == p or p in real.parents for p in allowed)
