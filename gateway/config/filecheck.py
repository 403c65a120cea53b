"""What `gateway check-config` says of the files and devices the config names, beyond the models.

A config may be written before the hardware is plugged in or the certificates are copied over, so
what this box lacks now is a warning: the gateway starts and marks a missing device offline. But an
installer's one check before `systemctl start` should say so. What is there and would stop the start
(`refusals`: an HTTPS certificate and key that do not load, or a folder named for one) is refused,
as the start refuses it.
"""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from gateway.config.models import Http, SiteConfig
from gateway.errors import SetupError
from gateway.sync.command_key import key_problem

SERIAL_PORTS_HINT = "`ls /dev/serial/by-id/`"


def refusals(cfg: SiteConfig) -> list[str]:
    """What would stop the start (exit 78) though the config's keys are right: the HTTPS certificate
    and key that are there but do not load, or a folder named for either. A file missing or
    unreadable to the checking user is for `warnings`: it may be copied over, or readable by the
    gateway's user, before the start."""
    error = _tls_load_error(cfg.http)
    if error is None or (_not_there_yet(error) and not _tls_folders(cfg.http)):
        return []
    return [str(_tls_setup_error(cfg.http, error))]


def _not_there_yet(error: OSError) -> bool:
    return isinstance(error, FileNotFoundError | NotADirectoryError | PermissionError)


def check_tls_files(http: Http) -> None:
    """The certificate and key load, or a setup error naming the file and what to do (the start's
    check, runtime.serve; check-config makes it too, through `refusals`)."""
    error = _tls_load_error(http)
    if error is not None:
        raise _tls_setup_error(http, error) from error


def _tls_load_error(http: Http) -> OSError | None:
    if not http.tls:
        return None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            str(http.tls_cert_file), str(http.tls_key_file)
        )
    except OSError as exc:  # ssl.SSLError is one too: not a certificate, or not its key
        return exc
    return None


def _tls_setup_error(http: Http, exc: OSError) -> SetupError:
    folders = _tls_folders(http)
    if folders:
        name, path, what = folders[0]
        return SetupError(
            f"[http] TLS: {name} {path} is a folder, not a file",
            fix=f"set [http] {name} to the {what} file in it ({path}/...), not the folder",
        )
    filename = getattr(exc, "filename", None)
    which = filename or f"tls_cert_file {http.tls_cert_file} with tls_key_file {http.tls_key_file}"
    why = exc.strerror or str(exc)
    swapped = (
        "; the certificate file holds a private key and the key file a certificate: swap the two"
        if _swapped(http)
        else ""
    )
    return SetupError(
        f"[http] TLS: cannot load {which}: {why}{swapped}",
        fix="set [http] tls_cert_file and tls_key_file to a PEM certificate and its key that the "
        "gateway's user may read (chown estate-gateway, chmod 640), or turn tls off",
    )


def _tls_folders(http: Http) -> list[tuple[str, Path, str]]:
    """The TLS keys that name a folder (the one the certificates were copied into), with what file
    they should name: ssl says only "Is a directory", not which."""
    named = [("tls_cert_file", http.tls_cert_file, "certificate"), ("tls_key_file", http.tls_key_file, "key")]
    return [(name, path, what) for name, path, what in named if path is not None and _is_folder(path)]


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except OSError:  # not there, or in a folder this user may not read: for `warnings`
        return False


def _swapped(http: Http) -> bool:
    """Whether tls_cert_file and tls_key_file name each other's file (the usual slip)."""
    try:
        cert = Path(str(http.tls_cert_file)).read_text(encoding="ascii", errors="replace")
        key = Path(str(http.tls_key_file)).read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return "PRIVATE KEY-----" in cert and "CERTIFICATE-----" not in cert and "CERTIFICATE-----" in key


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
        elif name.startswith("http.") and path is not None and _unreadable(path):
            found.append(
                f"{name}: {path} cannot be read by this user, so whether it loads was not checked; "
                "the gateway's user must read it (chown estate-gateway, chmod 640)"
            )
        elif path is not None and _unreadable(path):
            # The gateway starts, but its link reads these as it connects: one that the service's
            # user cannot read keeps it off the broker, and nothing goes up to the centre.
            found.append(
                f"{name}: {path} cannot be read by this user (sudo -u estate-gateway gateway "
                "check-config checks as the service); the service's user (estate-gateway) must be "
                f"able to read it, or the link never connects: {_readable_fix(name, path)}"
            )
    problem = key_problem(cfg.command_key_path) if cfg.mqtt.enabled else None
    if problem is not None:
        found.append(f"mqtt.command_key_file: {problem}")
    for i, device in enumerate(cfg.devices):
        port = getattr(device, "port", None)
        problem = _port_problem(Path(port)) if isinstance(port, str) and port.startswith("/dev/") else None
        if problem is not None:
            found.append(
                f"devices[{i}] {device.id}: {port} {problem}; the gateway starts and shows it offline"
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


def _port_problem(port: Path) -> str | None:
    """Why a serial port named under /dev/ cannot be opened, as far as this user can tell."""
    try:
        mode = port.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return f"is not on this box now (plug it in, or check the port: {SERIAL_PORTS_HINT})"
    except OSError:  # in a folder the checking user may not read, though the gateway's user may
        return None
    if stat.S_ISDIR(mode):
        return (
            "is a folder, not a serial port: give the adapter's own name in it, as "
            f"{SERIAL_PORTS_HINT} lists it (e.g. /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0)"
        )
    if not stat.S_ISCHR(mode):
        return (
            "is not a serial device (a character device such as /dev/ttyUSB0): check the port "
            f"({SERIAL_PORTS_HINT})"
        )
    return None


def _readable_fix(name: str, path: Path) -> str:
    """How to let the service (systemd/estate-gateway.service: User and Group estate-gateway) read
    an [mqtt] file: a secret for its user alone, as the link's own error says; a certificate for
    its group."""
    if name in ("mqtt.password_file", "mqtt.key_file"):
        return f"sudo chown estate-gateway:estate-gateway {path} && sudo chmod 600 {path}"
    return f"sudo chown root:estate-gateway {path} && sudo chmod 640 {path}"


def _unreadable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return False
    except PermissionError:
        return True
    except OSError:
        return False


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # in a folder the checking user may not read, though the gateway's user may
        return False
