"""What `gateway check-config` says of the files and devices the config names, beyond the models.

A config may be written before the hardware is plugged in or the certificates are copied over, so
what this box lacks now is a warning: the gateway starts and marks a missing device offline. But an
installer's one check before `systemctl start` should say so, and what the service would meet that
the check does not: a file or the data_dir under a folder the unit hides from it (/home, /tmp), an
HTTPS key open to everyone, a certificate expired or about to. What is there and would stop the
start (`refusals`: an HTTPS certificate and key that do not load, or a folder named for one) is
refused, as the start refuses it.
"""

from __future__ import annotations

import _ssl
import difflib
import grp
import os
import pwd
import shlex
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.displays.voice import not_installed
from gateway.config.closed_ahead import closed_management_ahead
from gateway.config.crosscheck import capacity_warnings, guard_card_warnings
from gateway.config.devicecheck import camera_login_warnings, gpio_library_warnings
from gateway.config.devices import SerialReaderDevice, VoiceDevice
from gateway.config.models import Http, SiteConfig
from gateway.config.parking import free_first_periods
from gateway.config.service_unit import WritePaths, service_write_paths, writes_in
from gateway.config.service_user import SERVICE_DATA_DIR, SERVICE_USER, check_config_as, readable_fix
from gateway.errors import SetupError
from gateway.runtime.listen import bind_error, bind_fix, comes_back, not_here
from gateway.sync.command_key import key_problem

SERIAL_PORTS_HINT = "`ls /dev/serial/by-id/`"


def refusals(cfg: SiteConfig) -> list[str]:
    """What would stop the start (exit 78) though the config's keys are right: a data_dir that is a
    file, the HTTPS certificate and key that are there but do not load (not PEM, a key with a pass
    phrase or of another certificate), or a folder named for either. A file missing or unreadable
    to the checking user is for `warnings`: it may be copied over, or readable by the gateway's
    user, before the start."""
    found = _data_dir_refusals(cfg.site.data_dir)
    fault = _tls_fault(cfg.http)
    if fault is not None and not fault.later:
        found.append(str(SetupError(fault.message, fix=fault.fix)))
    return found


def _data_dir_refusals(data_dir: Path) -> list[str]:
    """data_dir a file, or under one (`data_dir = "/var/lib/estate-gateway/gateway.db"`, the
    database for its folder): the start cannot make the folder (exit 78, "cannot create the data
    directory"), nor can any `-c` command; check-config said ok."""
    blocking = _file_in_the_way(data_dir)
    if blocking is None:
        return []
    where = "is a file" if blocking == data_dir else f"is under {blocking}, a file"
    return [
        str(
            SetupError(
                f"site.data_dir: {data_dir} {where}, not a folder: the start stops (exit 78), as every "
                "command given this config does, unable to make the data directory",
                fix="set data_dir to the folder the database goes in, such as "
                f'data_dir = "{blocking.parent}" (under systemd: "{SERVICE_DATA_DIR}")',
            )
        )
    ]


def _file_in_the_way(folder: Path) -> Path | None:
    """What stands where `folder`, or a folder it is to be made in, must be: a file; None if the
    folder is there or can be made (a folder this user may not read is the gateway user's to)."""
    try:
        there = next(p for p in (folder, *folder.parents) if p.exists())
        return None if there.is_dir() else there
    except OSError:
        return None


def check_tls_files(http: Http) -> None:
    """The certificate and key load, or a setup error naming the file and what to do (the start's
    check, runtime.serve; check-config makes it too, through `refusals`)."""
    fault = _tls_fault(http)
    if fault is not None:
        raise SetupError(fault.message, fix=fault.fix) from fault.cause


@dataclass(frozen=True, slots=True)
class _TlsFault:
    """Why the [http] certificate and key do not load, and what to type. `later`: a file not copied
    over yet, or one this user may not read (the gateway's user may): a warning for check-config."""

    message: str
    fix: str
    cause: BaseException | None = None
    later: bool = False


class _PassPhrase(Exception):
    """The key asks for a pass phrase: nobody is there to type it for the service."""


def _no_pass_phrase() -> str:
    # Without a callback OpenSSL asks on the terminal (/dev/tty): check-config in an ssh session
    # waited for ever, and a phrase typed there passed a key the service can never load.
    raise _PassPhrase


def _tls_fault(http: Http) -> _TlsFault | None:
    if http.tls_cert_file is None or http.tls_key_file is None:
        return None
    cert, key = http.tls_cert_file, http.tls_key_file
    read = [_read_tls_file("tls_cert_file", cert), _read_tls_file("tls_key_file", key)]
    faults = [f for f in read if isinstance(f, _TlsFault)]
    if faults:  # one that the start stops for first: the other may only be not copied over yet
        return next((f for f in faults if not f.later), faults[0])
    cert_text, key_text = (r for r in read if isinstance(r, bytes))
    return _pem_fault(cert, cert_text, key, key_text) or _load_fault(cert, cert_text, key)


def _read_tls_file(name: str, path: Path) -> bytes | _TlsFault:
    what = "certificate" if name == "tls_cert_file" else "private key"
    try:
        return path.read_bytes()
    except IsADirectoryError as exc:  # ssl says only "Is a directory", not which
        return _TlsFault(
            f"[http] TLS: {name} {path} is a folder, not a file",
            fix=f"set [http] {name} to the {what} file in it ({path}/...), not the folder",
            cause=exc,
        )
    except OSError as exc:
        later = isinstance(exc, FileNotFoundError | NotADirectoryError | PermissionError)
        return _TlsFault(
            f"[http] TLS: cannot read {name} {path}: {exc.strerror or exc}",
            fix=_unreadable_tls_fix(f"http.{name}", path, exc),
            cause=exc,
            later=later,
        )


def _unreadable_tls_fix(name: str, path: Path, exc: OSError) -> str:
    hidden = _hidden_from_service(path)
    if hidden is not None:  # there for the installer's shell, not for the service
        return f"{_hidden_why(path, *hidden)}: {_copy_for_service(name, path)}"
    if isinstance(exc, PermissionError):
        return f"let the gateway's user read it: {_readable_fix(name, path)}"
    what = "certificate" if name == "http.tls_cert_file" else "private key"
    return f"copy the {what} to {path}, or set [http] {name.removeprefix('http.')} to where it is"


def _pem_fault(cert: Path, cert_text: bytes, key: Path, key_text: bytes) -> _TlsFault | None:
    """Each file read on its own (ssl names neither, "[SSL] PEM lib"): PEM text, and what it holds."""
    if _swapped(cert_text, key_text):
        return _TlsFault(
            f"[http] TLS: tls_cert_file {cert} holds a private key and tls_key_file {key} a "
            "certificate: the two are swapped",
            fix=f'swap them in [http]: tls_cert_file = "{key}" and tls_key_file = "{cert}"',
        )
    for name, path, text, what in (
        ("tls_cert_file", cert, cert_text, "certificate"),
        ("tls_key_file", key, key_text, "private key"),
    ):
        if not text.strip():  # a copy that failed half-way, a `> file` of a command that said nothing
            return _TlsFault(
                f"[http] TLS: {name} {path} is empty",
                fix=f"copy the {what} into it again (ls -l {path} shows its size)",
            )
    if b"-----BEGIN" not in cert_text:
        return _TlsFault(
            f"[http] TLS: tls_cert_file {cert} is not PEM (DER?): the gateway reads a text file "
            "beginning -----BEGIN CERTIFICATE-----",
            fix=f"convert it: openssl x509 -inform der -in {cert} -out {cert}.pem, then set [http] "
            f"tls_cert_file to {cert}.pem",
        )
    if b"-----BEGIN" not in key_text:
        return _TlsFault(
            f"[http] TLS: tls_key_file {key} is not PEM (DER?): the gateway reads a text file "
            "beginning -----BEGIN PRIVATE KEY-----",
            fix=f"convert it: openssl pkey -inform der -in {key} -out {key}.pem && "
            f"{_readable_fix('http.tls_key_file', Path(f'{key}.pem'))}, then set [http] tls_key_file "
            f"to {key}.pem",
        )
    if b"CERTIFICATE-----" not in cert_text:
        return _TlsFault(
            f"[http] TLS: tls_cert_file {cert} holds no certificate (no -----BEGIN CERTIFICATE-----)",
            fix="set [http] tls_cert_file to the gateway's certificate (then any intermediate after it)",
        )
    if b"PRIVATE KEY-----" not in key_text:
        return _TlsFault(
            f"[http] TLS: tls_key_file {key} holds no private key (no -----BEGIN PRIVATE KEY-----)",
            fix=f"set [http] tls_key_file to the private key made with the certificate in {cert}",
        )
    return None


def _swapped(cert_text: bytes, key_text: bytes) -> bool:
    """Whether tls_cert_file and tls_key_file name each other's file (the usual slip)."""
    key_in_cert = b"PRIVATE KEY-----" in cert_text and b"CERTIFICATE-----" not in cert_text
    return key_in_cert and b"CERTIFICATE-----" in key_text


def _load_fault(cert: Path, cert_text: bytes, key: Path) -> _TlsFault | None:
    """The pair loaded as the start loads them, with no one to ask a pass phrase of."""
    try:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key), password=_no_pass_phrase)
    except _PassPhrase as exc:
        nopass = Path(f"{key}.nopass")
        return _TlsFault(
            f"[http] TLS: tls_key_file {key}: the key is protected by a pass phrase, which nobody "
            "types for the service",
            fix=f"write it without one (openssl asks the phrase once): openssl pkey -in {key} -out "
            f"{nopass} && {_readable_fix('http.tls_key_file', nopass)}, then set [http] tls_key_file "
            f"to {nopass}",
            cause=exc,
        )
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            return _mismatch(cert, cert_text, key, exc)
        return _TlsFault(
            f"[http] TLS: cannot load tls_cert_file {cert} with tls_key_file {key}: {exc.reason or exc}",
            fix="set [http] tls_cert_file and tls_key_file to a PEM certificate and the private key "
            "made with it, or remove both to serve plain HTTP",
            cause=exc,
        )
    except OSError as exc:  # changed since it was read
        return _TlsFault(
            f"[http] TLS: cannot load tls_cert_file {cert} with tls_key_file {key}: {exc.strerror or exc}",
            fix="check the two files (ls -l), then check the config again",
            cause=exc,
        )
    return None


def _mismatch(cert: Path, cert_text: bytes, key: Path, exc: ssl.SSLError) -> _TlsFault:
    """The key is not the first certificate's: ssl takes the first as the gateway's own."""
    count = cert_text.count(b"-----BEGIN CERTIFICATE-----")
    pair = (
        f"openssl x509 -noout -pubkey -in {cert} and openssl pkey -pubout -in {key} print the same "
        "key for a pair"
    )
    if count > 1:
        return _TlsFault(
            f"[http] TLS: the first certificate in tls_cert_file {cert} (of {count}) is not the one "
            f"tls_key_file {key} belongs to",
            fix="put the gateway's own certificate first, then the intermediate (e.g. cat gw.crt "
            f"intermediate.crt > {cert}); or, if the key belongs to another certificate, give the "
            f"pair made together ({pair})",
            cause=exc,
        )
    return _TlsFault(
        f"[http] TLS: tls_key_file {key} is not the private key of tls_cert_file {cert}",
        fix=f"give the certificate and the key that were made together ({pair})",
        cause=exc,
    )


# The shipped unit (systemd/estate-gateway.service) hides these from the service: ProtectHome=yes
# shows it an empty /home, /root and /run/user, and PrivateTmp=yes a /tmp and /var/tmp of its own.
# A file there passes the installer's check, then is "No such file or directory" to the service.
HIDDEN_FROM_SERVICE = {
    "/home": "ProtectHome=yes",
    "/root": "ProtectHome=yes",
    "/run/user": "ProtectHome=yes",
    "/tmp": "PrivateTmp=yes",
    "/var/tmp": "PrivateTmp=yes",
}
SERVICE_CONFIG_DIR = Path("/etc/estate-gateway")  # the unit's ConfigurationDirectory


def _hidden_from_service(path: Path) -> tuple[str, str] | None:
    """The folder of HIDDEN_FROM_SERVICE that `path` is in (links followed), and the unit's setting."""
    real = Path(os.path.realpath(path))
    for folder, setting in HIDDEN_FROM_SERVICE.items():
        if real == Path(folder) or Path(folder) in real.parents:
            return folder, setting
    return None


def _hidden_why(path: Path, folder: str, setting: str) -> str:
    return (
        f"{path} is under {folder}, which the service cannot read ({setting} in its unit, "
        "systemd/estate-gateway.service), even where the file is there"
    )


def _copy_for_service(name: str, path: Path) -> str:
    """A shell line that copies the file where the service reads it, with the owner and mode it needs."""
    copy = SERVICE_CONFIG_DIR / path.name
    owner = "estate-gateway -g estate-gateway"
    mode = f"-o {owner} -m 600" if _secret(name) else "-o root -g estate-gateway -m 640"
    key = name.partition(".")[2]
    return f"copy it to {SERVICE_CONFIG_DIR}: sudo install -D {mode} {path} {copy}, and set {key} to {copy}"


CERT_ENDS_SOON = timedelta(days=30)  # time to get a new certificate from the property company's CA


def tls_expiry_warning(http: Http, now: datetime) -> str | None:
    """That the HTTPS certificate has expired, or ends within CERT_ENDS_SOON: the tablet's browser
    then refuses every guard page (NET::ERR_CERT_DATE_INVALID). Said by check-config and once at
    the start; None when it is further off, or when it cannot be read (the load check says why)."""
    if not http.tls or http.tls_cert_file is None:
        return None
    ends = _certificate_ends(http.tls_cert_file)
    if ends is None or ends - now > CERT_ENDS_SOON:
        return None
    path = http.tls_cert_file
    renew = (
        f"ask whoever issued it (the property company's CA) for a new one, copy it over {path} (and "
        "its key over tls_key_file if it comes with one), then sudo systemctl restart estate-gateway"
    )
    when = f"{ends:%Y-%m-%d %H:%M} UTC"
    if ends <= now:
        return (
            f"http.tls_cert_file: the certificate in {path} expired on {when}: the guard tablet's "
            f"browser refuses every guard page over HTTPS (NET::ERR_CERT_DATE_INVALID); {renew}"
        )
    days = (ends - now).days
    left = "within a day" if days < 1 else f"in {days} day{'s' if days > 1 else ''}"
    return (
        f"http.tls_cert_file: the certificate in {path} ends on {when}, {left}: from then on the "
        f"guard tablet's browser refuses every guard page over HTTPS; before then, {renew}"
    )


def _certificate_ends(path: Path) -> datetime | None:
    """The notAfter of the first certificate in `path` (the gateway's own: the load check puts it
    first). With ssl's own decoder: the box has no `cryptography`, and may have no openssl CLI."""
    decode = getattr(_ssl, "_test_decode_cert", None)  # CPython's, since 2.7; not in typeshed
    if decode is None:
        return None
    try:
        not_after = decode(str(path))["notAfter"]
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    except (OSError, ValueError, KeyError, TypeError):  # ssl.SSLError is an OSError
        return None


def warnings(cfg: SiteConfig, config: Path | None = None) -> list[str]:
    """What this box lacks or the service would meet; `config`, the file checked, is named in the
    line that checks it again as the service's user."""
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
                f"the gateway's user must read it: {_readable_fix(name, path)}"
            )
        elif path is not None and _unreadable(path):
            # The gateway starts, but its link reads these as it connects: one that the service's
            # user cannot read keeps it off the broker, and nothing goes up to the centre.
            found.append(
                f"{name}: {path} cannot be read by this user ({check_config_as(SERVICE_USER, config)} "
                f"checks as the service); the service's user ({SERVICE_USER}) must be "
                f"able to read it, or the link never connects: {_readable_fix(name, path)}"
            )
    found += _hidden_warnings(files)
    found += _data_dir_warnings(cfg.site.data_dir)
    found += _open_key(cfg.http)
    expiry = tls_expiry_warning(cfg.http, datetime.now(UTC))
    if expiry is not None:
        found.append(expiry)
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
    found += _voice_programs(cfg)
    found += _one_way_passback(cfg)
    found += _windows_without_contact(cfg)
    found += _em4100_numbers_differ(cfg)
    found += capacity_warnings(cfg)
    found += guard_card_warnings(cfg)
    found += free_first_periods(cfg.parking)
    found += closed_management_ahead(cfg, datetime.now(UTC))  # its days are the site's
    found += gpio_library_warnings(cfg)
    found += camera_login_warnings(cfg)
    found += _listen_not_here(cfg.http)
    if cfg.http.port < 1024:
        found.append(
            f"http.port: {cfg.http.port} is below 1024, where the systemd service (no privileges) "
            "cannot listen: use 1024 or more (e.g. 8080)"
        )
    return found


def _listen_not_here(http: Http) -> list[str]:
    """[http] listen an address this box does not have: `gateway run` cannot listen (exit 1) and
    systemd starts it again every 2 s, for good. Not a port in use: during an upgrade the running
    gateway holds it."""
    exc = bind_error(http.listen, http.port)
    if exc is None or not not_here(exc):
        return []
    fix = bind_fix(exc, http.listen, http.port)
    then = "be restarted every 2 s" if comes_back(exc) else "stop until fixed"
    return [
        f"http.listen: cannot listen on {http.listen}:{http.port} ({exc.strerror}): the service would "
        f"fail to start and {then}, the guard pages down; {fix}"
    ]


def _voice_programs(cfg: SiteConfig) -> list[str]:
    """A voice device whose program is not on this box (espeak-ng in the example config, which
    Raspberry Pi OS Lite does not have): the start shows it offline, and no prompt is ever heard."""
    found = []
    for i, device in enumerate(cfg.devices):
        missing = not_installed(device.command) if isinstance(device, VoiceDevice) else None
        if missing is not None:
            found.append(f"devices[{i}] {device.id}: {missing}; the gateway starts and shows it offline")
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


def _windows_without_contact(cfg: SiteConfig) -> list[str]:
    """open_grace_s, held_open_s or rise_within_s written on a device that wires no barrier contact (a loop
    detector alone): the lane's windows are those of its contact module, so these are ignored
    (they used to cut the contact module's own, and a site may have set them here on purpose)."""
    found = []
    for i, device in enumerate(cfg.devices):
        inputs = getattr(device, "inputs", None)
        contacts = ("barrier_open", "barrier_closed")
        if inputs is None or any(getattr(inputs, c, None) is not None for c in contacts):
            continue  # (address 0 is an input too)
        for key in ("open_grace_s", "held_open_s", "rise_within_s"):
            if key in device.model_fields_set:
                found.append(
                    f"devices[{i}] {device.id}: {key} is ignored on a device that wires no barrier contact "
                    f"(a loop detector alone); set it on the device of lane {device.lane!r} that wires "
                    "barrier_open or barrier_closed"
                )
    return found


def _em4100_numbers_differ(cfg: SiteConfig) -> list[str]:
    """EM4100 readers giving one card in two forms (em4100_number "hex" and "decimal"): the gateway
    finds a card either way (by its low 32 bits: docs/hardware.md, *Card numbers: one card, every
    reader*), but the register
    keeps one form, and a 10-digit number in it is read as the printed decimal one unless every
    EM4100 reader gives hex: a hex number of digits only is then another card."""
    readers = [
        d
        for d in cfg.devices
        if isinstance(d, SerialReaderDevice) and d.format == "em4100" and d.role == "access"
    ]
    if len({d.em4100_number for d in readers}) < 2:
        return []
    each = ", ".join(f'{d.id} em4100_number = "{d.em4100_number}"' for d in readers)
    named = {n: ", ".join(d.id for d in readers if d.em4100_number == n) for n in ("hex", "decimal")}
    return [
        f"devices: the EM4100 readers give one card in two forms ({each}): 0016363D4E from a hex one, "
        "0372653390 (printed on the card) from a decimal one; the gateway finds a card either way, "
        "but the register keeps one form, and reads a 10-digit number in it as the printed one: make "
        f'them alike, em4100_number = "decimal" on {named["hex"]} (import the cards as printed), or '
        f'"hex" on {named["decimal"]} if the cards were imported as hex'
    ]


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


def _hidden_warnings(files: list[tuple[str, Path | None]]) -> list[str]:
    """The files under a folder the unit hides from the service: the check sees them, it will not
    (one missing is said to be so above)."""
    found = []
    for name, path in files:
        hidden = _hidden_from_service(path) if path is not None else None
        if path is not None and hidden is not None and not _missing(path):
            found.append(f"{name}: {_hidden_why(path, *hidden)}: {_copy_for_service(name, path)}")
    return found


def _data_dir_warnings(data_dir: Path) -> list[str]:
    """data_dir under a folder the unit hides from the service: under /home or /root it cannot keep
    its database at all; under /tmp it writes a /tmp of its own, emptied at every stop, and the
    residents, parked cars and records not yet sent upstream are lost at each restart."""
    hidden = _hidden_from_service(data_dir)
    if hidden is None:
        return _data_dir_not_writable(data_dir)
    folder, setting = hidden
    if setting == "PrivateTmp=yes":
        why = (
            f"{data_dir} is under {folder}, of which the service has a private one ({setting} in its "
            "unit, systemd/estate-gateway.service), emptied at every stop: the database (residents, "
            "cards, cars parked, records not yet sent upstream) would be lost at each restart"
        )
    else:
        why = (
            f"{data_dir} is under {folder}, which the service cannot see ({setting} in its unit, "
            "systemd/estate-gateway.service): it cannot keep its database there"
        )
    return [f"site.data_dir: {why}; {_data_dir_fix(data_dir)}"]


def _data_dir_fix(data_dir: Path) -> str:
    service = SERVICE_DATA_DIR
    keep = (
        f" (to keep what is in it: sudo install -d -m 750 {service} && sudo cp -a {data_dir}/. {service}/ "
        f"&& sudo chown -R estate-gateway:estate-gateway {service})"
        if _is_folder(data_dir)
        else ""
    )
    return (
        f'set data_dir = "{service}", which the unit makes for the service{keep}, or a folder outside '
        "/home, /root and /tmp that `sudo systemctl edit estate-gateway` adds to the unit's "
        "ReadWritePaths ([Service] ReadWritePaths=/mnt/ssd)"
    )


def _data_dir_not_writable(data_dir: Path) -> list[str]:
    """data_dir that the service cannot write, though the check sees it: outside the unit's
    ReadWritePaths (a typo, /var/lib/estate-gatway: ProtectSystem=strict leaves the rest of the disk
    read-only to it), or a folder made with `sudo mkdir`, root's, rather than with README's
    `install -d -o estate-gateway`. The start stops on either (exit 78), with its own fix."""
    paths = service_write_paths()
    if paths is not None and not writes_in(paths, data_dir):
        return [_outside_write_paths(data_dir, paths)]
    fault = _owner_fault(data_dir)
    return [] if fault is None else [fault]


def _outside_write_paths(data_dir: Path, paths: WritePaths) -> str:
    folders = " ".join(dict.fromkeys(str(folder) for folder in paths.folders))
    guess = difflib.get_close_matches(str(data_dir), folders.split(" "), n=1, cutoff=0.9)
    hint = f' (did you mean "{guess[0]}"?)' if guess else ""
    make = (
        ""
        if _is_folder(data_dir)
        else f"sudo install -d -o {SERVICE_USER} -g {SERVICE_USER} -m 750 {shlex.quote(str(data_dir))}, then "
    )
    return (
        f"site.data_dir: {data_dir} is outside the folders the service may write{hint}: it writes only "
        f"{folders} (ProtectSystem=strict, ReadWritePaths and StateDirectory in {paths.unit}), so the "
        "start stops (exit 78), unable to make or write its database there; fix: set data_dir to a "
        f"folder in {folders}, or make this one the service's: {make}`sudo systemctl edit "
        f"estate-gateway` and add [Service] ReadWritePaths={data_dir}"
    )


def _owner_fault(data_dir: Path) -> str | None:
    """The folder there, but not the service user's to write (owner, group and mode, as the service
    runs: the checking user may be another); this user's where the box has no service user yet.
    Not the unit's StateDirectory: systemd gives that to the service at every start."""
    if os.path.realpath(data_dir) == os.path.realpath(SERVICE_DATA_DIR):
        return None
    try:
        found = data_dir.stat()
        user: pwd.struct_passwd | None = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        user = None
    except OSError:  # in a folder the checking user may not read: the service's may
        return None
    if not stat.S_ISDIR(found.st_mode):
        return None
    if user is not None:
        if _may_write(found, user):
            return None
        who, owner, group = f"the service's user ({SERVICE_USER})", SERVICE_USER, SERVICE_USER
    else:
        if os.access(data_dir, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
            return None
        me = _name(pwd.getpwuid, os.geteuid())
        who, owner, group = f"this user ({me})", me, _name(grp.getgrgid, os.getegid())
    return (
        f"site.data_dir: {data_dir} is {_name(pwd.getpwuid, found.st_uid)}'s "
        f"({stat.filemode(found.st_mode)}): {who} may not write it, and the start stops (exit 78), "
        f"unable to write its database; fix: sudo install -d -o {owner} -g {group} -m 750 "
        f"{shlex.quote(str(data_dir))} (a folder made with mkdir under sudo is root's)"
    )


def _may_write(found: os.stat_result, user: pwd.struct_passwd) -> bool:
    """Whether `user` may make files in a folder of this owner, group and mode (ACLs aside)."""
    if user.pw_uid == 0:
        return True
    groups = {user.pw_gid, *(g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem)}
    if found.st_uid == user.pw_uid:
        bits = found.st_mode >> 6
    elif found.st_gid in groups:
        bits = found.st_mode >> 3
    else:
        bits = found.st_mode
    return bits & 0o3 == 0o3  # write and search


def _name(lookup: Callable[[int], Any], number: int) -> str:
    try:
        return str(lookup(number)[0])
    except KeyError:
        return str(number)


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # in a folder the checking user may not read
        return False


def _open_key(http: Http) -> list[str]:
    """The HTTPS private key open to others than its owner (docs/config.md: "readable by the gateway
    only"): any user or program on the box may pose as the gateway to the guard tablet with it."""
    key = http.tls_key_file
    try:
        mode = key.stat().st_mode if key is not None and http.tls else 0
    except OSError:  # missing, or in a folder this user may not read: warned of above
        return []
    if key is None or not stat.S_ISREG(mode) or not mode & 0o077:
        return []
    return [
        f"http.tls_key_file: {key} is open to others than its owner ({stat.filemode(mode)}): whoever "
        "reads it can pose as the gateway to the guard tablet; fix: "
        f"{_readable_fix('http.tls_key_file', key)}"
    ]


def _secret(name: str) -> bool:
    return name in ("mqtt.password_file", "mqtt.key_file", "http.tls_key_file")


def _readable_fix(name: str, path: Path) -> str:
    """How to let the service read a file it names, as the link's own error says (service_user.py)."""
    return readable_fix(path, secret=_secret(name))


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
