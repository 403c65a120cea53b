"""Whether this box can listen on the [http] address and port: said by `gateway run` before it
starts anything, and by `gateway check-config` before the service is started."""

from __future__ import annotations

import errno
import socket


def bind_error(host: str, port: int) -> OSError | None:
    """Why a bind on host:port fails now (as uvicorn's will, SO_REUSEADDR included); None when it
    does not. A socket.gaierror is a listen address that is no address (a name that does not
    resolve); EAFNOSUPPORT an IPv6 address on a box whose kernel has IPv6 turned off, as the
    socket itself is refused (Review 59g: that escaped as a traceback from check-config)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        return exc
    return None


def not_here(exc: OSError) -> bool:
    """The address is none of this box's (the tablet's IP typed for it, its old DHCP address, an
    IPv6 address where IPv6 is off)."""
    return isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)


def comes_back(exc: OSError) -> bool:
    """Whether starting again may listen: a port in use may be free in a moment (an older gateway
    stopping), an address may not be up yet (DHCP, or the switch after a power cut). A port below
    1024 never will, nor IPv6 on a box booted without it (ipv6.disable=1, common on a Pi)."""
    if exc.errno == errno.EAFNOSUPPORT:
        return False
    return exc.errno == errno.EADDRINUSE or not_here(exc)


def bind_fix(exc: OSError, host: str, port: int) -> str:
    """What to do about a failed bind: it depends on why, not only on the port being taken."""
    if exc.errno == errno.EADDRINUSE:
        return (
            "another program uses the port (an older gateway still running?): stop it, "
            "or set another [http] port in the site config"
        )
    if exc.errno == errno.EACCES:
        return f"port {port} is below 1024 and needs privileges: set [http] port to 1024 or more (e.g. 8080)"
    if exc.errno == errno.EAFNOSUPPORT:
        return (
            "this box has no IPv6 (turned off, e.g. ipv6.disable=1 in /boot/firmware/cmdline.txt): "
            "set [http] listen to 0.0.0.0 (all its addresses), 127.0.0.1, or one of its IPv4 addresses"
        )
    if not_here(exc):
        return (
            f"this box has no address {host}: set [http] listen to 0.0.0.0 (all its addresses), "
            "127.0.0.1, or one of the addresses `ip -brief address` shows"
        )
    return "check [http] listen and port in the site config"
