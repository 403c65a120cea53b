"""Checking the address the HTTP server listens on, before the service tries to bind it."""

from __future__ import annotations

import ipaddress
import re

_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def check_listen(value: str) -> str:
    """An IP address or a host name, as uvicorn binds it; anything else says how to write it."""
    text = value.strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if "://" in text or "/" in text:
        raise ValueError(
            f"{value!r} is a URL; listen is an address such as 0.0.0.0 (all of this box's addresses) "
            "or 127.0.0.1, without http:// or a path"
        )
    if text.startswith("[") or text.count(":") == 1:
        raise ValueError(
            f"{value!r} is not an address; put the port in http.port and write listen as an address "
            "such as 0.0.0.0 (IPv6 without brackets: ::)"
        )
    if not _HOST_NAME.fullmatch(text):
        raise ValueError(f"{value!r} is not an IP address or host name; use 0.0.0.0 or 127.0.0.1")
    return text
