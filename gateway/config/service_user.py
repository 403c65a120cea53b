"""What a fix says to do as the service's user: let it read a file, or run check-config as it.

The unit (systemd/estate-gateway.service) runs the gateway as User and Group estate-gateway, so a
file an installer writes with sudo is root's until given to it, and a check that must see what the
service sees is run with `sudo -u estate-gateway`. check-config and the running gateway say the
same fix for the same file.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

SERVICE_USER = "estate-gateway"
# Where README's Install puts the command: on no PATH, and sudo's secure_path lacks it.
INSTALLED_GATEWAY = "/opt/estate-gateway/venv/bin/gateway"
SERVICE_DATA_DIR = Path("/var/lib/estate-gateway")  # the unit's StateDirectory


def readable_fix(path: Path, *, secret: bool) -> str:
    """A shell line that lets the service read `path`: a secret (a password, a private key) for
    its user alone; a certificate for its group. chmod alone would leave a file written with sudo
    root's, which the service may not read. Paths are quoted for the shell (a USB stick's
    /media/pi/NEW VOLUME), as in every line given to paste."""
    file = shlex.quote(str(path))
    if secret:
        return f"sudo chown {SERVICE_USER}:{SERVICE_USER} {file} && sudo chmod 600 {file}"
    return f"sudo chown root:{SERVICE_USER} {file} && sudo chmod 640 {file}"


def check_config_as(user: str, config: Path | None) -> str:
    """The line that runs check-config on `config` as `user`: the gateway command by its path
    (`sudo gateway` is "command not found"), the file by its absolute path (the user may not
    reach this shell's folder)."""
    return _gateway_as(user, "check-config", config)


def gateway_command() -> str:
    """The path of the gateway command running now, else where README installs it (run as
    `python -m gateway`, the script is not the command)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name != "gateway":
        return INSTALLED_GATEWAY
    return str(Path(argv0).resolve())


def this_command_as(user: str) -> str:
    """The command running now, as `user`, to paste: the gateway by its path, a site config
    (`-c`) by its absolute path (`user` may not reach this shell's folder, a home of mode 700)."""
    argv = sys.argv[1:] if Path(sys.argv[0] if sys.argv else "").name in ("gateway", "__main__.py") else []
    words = [
        str(Path(w).absolute()) if argv[:i][-1:] in (["-c"], ["--config"]) else w for i, w in enumerate(argv)
    ]
    return shlex.join(["sudo", "-u", user, gateway_command(), *words]) + ("" if words else " COMMAND ...")


def first_admin_as(user: str, config: Path | None) -> str:
    """The line that adds the guard pages' first admin as `user` (`gateway user add`), for a start
    that finds no account: nobody can log in, and there is no default password."""
    return _gateway_as(user, "user add -c", config) + " --admin NAME"


def _gateway_as(user: str, command: str, config: Path | None) -> str:
    """`sudo -u user gateway COMMAND FILE`: the gateway command by its path (`sudo gateway` is
    "command not found"), the file by its absolute path (the user may not reach this shell's
    folder), quoted for the shell; FILE where there is none."""
    file = shlex.quote(str(config.absolute())) if config is not None else "FILE"
    return f"sudo -u {user} {shlex.quote(gateway_command())} {command} {file}"


def config_given() -> Path | None:
    """The site config the command running now was given (`-c`, `--config`), as the unit's
    ExecStart gives `gateway run` its file; None where it was given none."""
    argv = sys.argv[1:]
    for i, word in enumerate(argv):
        if word in ("-c", "--config") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if word.startswith("--config="):
            return Path(word.partition("=")[2])
    return None
