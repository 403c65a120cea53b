"""What `gateway check-config` warns about: things the config names that this box lacks now.

A config may be written before the hardware is plugged in or the certificates are copied over, so
none of this makes the config bad: the gateway starts and marks a missing device offline. But an
installer's one check before `systemctl start` should say so.
"""

from __future__ import annotations

import stat
from pathlib import Path

from gateway.config.models import SiteConfig

MIN_KEY_CHARS = 16  # docs/mqtt.md, Keys


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
    key_problem = command_key_problem(cfg.command_key_path) if cfg.mqtt.enabled else None
    if key_problem is not None:
        found.append(f"mqtt.command_key_file: {key_problem}")
    for i, device in enumerate(cfg.devices):
        port = getattr(device, "port", None)
        if isinstance(port, str) and port.startswith("/dev/") and not Path(port).exists():
            found.append(
                f"devices[{i}] {device.id}: {port} is not on this box now (plug it in, or check the "
                "port: `ls /dev/serial/by-id/`); the gateway starts and shows it offline"
            )
    if cfg.http.port < 1024:
        found.append(
            f"http.port: {cfg.http.port} is below 1024, where the systemd service (no privileges) "
            "cannot listen: use 1024 or more (e.g. 8080)"
        )
    return found


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # in a folder the checking user may not read, though the gateway's user may
        return False


def command_key_problem(path: Path) -> str | None:
    """What is wrong with the key that signs remote commands, with the fix (said by check-config
    and at start); None when it is fine, or when this user may not read it (the gateway's may)."""
    make = (
        f"head -c 32 /dev/urandom | base64 > {path}; chmod 600 {path}; and give the central server "
        "the same key (docs/mqtt.md, Keys)"
    )
    try:
        text = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"no command key at {path}: every remote command will be refused (no_key); make one: {make}"
    except UnicodeDecodeError:
        return f"the command key in {path} is not text: every remote command will be refused (no_key); {make}"
    except (OSError, ValueError):
        return None
    if len(text) < MIN_KEY_CHARS:
        return (
            f"the command key in {path} is {len(text)} characters, fewer than {MIN_KEY_CHARS}: every "
            f"remote command will be refused (no_key); make a longer one: {make}"
        )
    if mode & 0o077:
        return (
            f"the command key {path} is open to others than its owner ({stat.filemode(mode)}): whoever "
            f"reads it can sign commands that open the gates; fix: chmod 600 {path}, owned by the "
            "gateway's user"
        )
    return None
