"""Checking the addresses the config names (the HTTP server's, the MQTT broker's), before the
service tries to bind or reach them: a mistyped one is refused by check-config, not retried for ever."""

from __future__ import annotations

import ipaddress
import re

_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
# The system resolver (/etc/hosts, Docker's DNS) looks up names with `_` too: Docker Compose v1
# names a service's container estate_mqtt_1.
_RESOLVER_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?"
)
_DOTTED_DIGITS = re.compile(r"[0-9.]+")


def check_listen(value: str) -> str:
    """An IP address or a host name, as uvicorn binds it; anything else says how to write it."""
    text = value.strip()
    if _is_ip_address(text):
        return text
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
    _refuse_a_bad_ip_or_name(value, text, example="0.0.0.0 or 127.0.0.1")
    return text


def check_broker_host(value: str) -> str:
    """The MQTT broker's host name or IP address, as paho looks it up: a URL or a port in it would
    be looked up whole and never connect."""
    text = value.strip()
    if _is_ip_address(text):
        return text
    if "://" in text or "/" in text:
        raise ValueError(
            f"{value!r} is a URL; host is the broker's name or IP address alone, e.g. "
            "mqtt.example.cn, without mqtt:// or a path (the port goes in [mqtt] port; "
            "TLS is turned on by [mqtt] ca_file)"
        )
    if text.startswith("[") or text.count(":") == 1:
        raise ValueError(
            f"{value!r} is not a host; put the port in [mqtt] port (8883 with TLS) and write host "
            "as the broker's name or IP address alone, e.g. mqtt.example.cn (IPv6 without brackets)"
        )
    _refuse_a_bad_ip_or_name(value, text, example="mqtt.example.cn or 192.168.1.10", names=_RESOLVER_NAME)
    return text


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _refuse_a_bad_ip_or_name(
    value: str, text: str, example: str, names: re.Pattern[str] = _HOST_NAME
) -> None:
    # Dots and digits alone are no host name (no top-level domain is a number): a slip in an IP
    # address, 192.168.1.300, that the resolver would only refuse at the start. Checked in the form
    # the resolver is asked for too: a Chinese input method's 。 and full-width digits
    # (192。168。1。300, １９２.１６８.１.３００) are read as dots and digits there.
    looked_up = _looked_up_as(text)
    if (_DOTTED_DIGITS.fullmatch(text) or _DOTTED_DIGITS.fullmatch(looked_up)) and not _is_ip_address(
        looked_up
    ):
        read_as = f" (read as {looked_up})" if looked_up and looked_up != text else ""
        raise ValueError(
            f"{value!r}{read_as} is not an IP address: it is four numbers, each 0-255 without "
            "leading zeros, e.g. 192.168.1.30"
        )
    if not names.fullmatch(looked_up):
        raise ValueError(f"{value!r} is not an IP address or host name; use {example}")


def _looked_up_as(text: str) -> str:
    """The name as the resolver is asked for it: a Chinese domain name (消息.物业.中国) in its
    xn--... form, as Python's socket functions encode it; "" where it has no such form (an empty
    label, a label over 63 characters)."""
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
