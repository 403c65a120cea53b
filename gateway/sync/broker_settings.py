"""The settings of one connection to the broker, from [mqtt]: the password read from its file and
the TLS files checked first, so that a missing one is a setup error that names the key to fix."""

from __future__ import annotations

from pathlib import Path

from gateway.config.models import Mqtt
from gateway.config.service_user import readable_fix
from gateway.sync.client import Settings, tls_files_unusable
from gateway.sync.errors import LinkSetupError

_NAMES = {name: f"[mqtt] {name}" for name in ("ca_file", "cert_file", "key_file")}


def broker_settings(cfg: Mqtt, client_id: str, will: tuple[str, bytes]) -> Settings:
    """Raises LinkSetupError for a password file that cannot be read or a TLS file that is missing
    or does not load."""
    password = None
    if cfg.password_file is not None:
        password = _read_secret(cfg.password_file, "password_file")
    for name in ("ca_file", "cert_file", "key_file"):
        path = getattr(cfg, name)
        if path is not None and not path.is_file():
            raise LinkSetupError(
                f"[mqtt] {name} {path} does not exist",
                fix=f"put the file there or correct [mqtt] {name}",
            )
        if path is not None:
            _readable(path, name)
    # Loaded as the connection will load them: a CA file that is no certificate raised out of
    # paho's tls_set on the link's thread, which ended, and no record went up again.
    unusable = tls_files_unusable(cfg.ca_file, cfg.cert_file, cfg.key_file, _NAMES) if cfg.ca_file else None
    if unusable is not None:
        raise unusable
    return Settings(
        host=cfg.host,
        port=cfg.port,
        client_id=client_id,
        username=cfg.username,
        password=password,
        ca_file=cfg.ca_file,
        cert_file=cfg.cert_file,
        key_file=cfg.key_file,
        keepalive=cfg.keepalive_s,
        session_expiry=cfg.session_expiry_s,
        clean_start=False,
        inflight=cfg.inflight,
        will=will,
        max_packet_size=cfg.max_received_kb * 1024,
    )


def _read_secret(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except PermissionError as exc:
        raise _unreadable(path, name, exc) from exc
    except OSError as exc:
        own = readable_fix(path, secret=True)
        raise LinkSetupError(
            f"cannot read [mqtt] {name} {path}: {exc.strerror}",
            fix=f"create the file, then make it the gateway's user's alone: {own}",
        ) from exc


def _readable(path: Path, name: str) -> None:
    """A TLS file the service's user may not read (copied in with sudo: root's), said with the
    fix check-config gives for it: the TLS loading below says only to copy the file there."""
    try:
        with path.open("rb"):
            pass
    except PermissionError as exc:
        raise _unreadable(path, name, exc) from exc


def _unreadable(path: Path, name: str, exc: OSError) -> LinkSetupError:
    """chmod alone leaves a file written with sudo root's: the fix gives it to the service's user,
    as check-config's does (service_user.py)."""
    secret = name in ("password_file", "key_file")
    return LinkSetupError(
        f"cannot read [mqtt] {name} {path}: {exc.strerror}",
        fix=f"let the gateway's user read it: {readable_fix(path, secret=secret)}",
    )
