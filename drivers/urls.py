"""Device urls as they may be shown: in a log line, a device's last error, a config error.

A camera url carries its password (rtsp://admin:secret@host/...). Shown anywhere, the password
becomes ***; the user name stays, as it helps to find which camera is meant. The gateway imports
from the drivers, never the other way round, so this lives here for both to use.
"""

from __future__ import annotations

import re

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
# An IP address and port: never a user name and password, which `user:` with no '@' may be.
_IP_AND_PORT = re.compile(r"(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}")


def redact_url(url: str) -> str:
    """rtsp://admin:p@ss:1@host:554/x -> rtsp://admin:***@host:554/x.

    The user information ends at the authority's last '@' and the user name at its first ':', as
    FFmpeg reads them, so a password holding '@' or ':' is hidden whole; one holding '/', '?' or
    '#' too (see _authority).
    """
    authority = _authority(url)
    userinfo, at, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return url
    return url.replace(authority, f"{user}:***@{host}", 1)


def _authority(url: str) -> str:
    """What FFmpeg takes as the authority: from '://' to the first '/', '?' or '#'.

    But a password may hold '/', '?' or '#' (Hikvision asks for a "special character"): FFmpeg
    then cannot read it, and the url is still shown in the error. So an authority whose user
    information holds a ':' (a password begun: `user:pass`, or `user:pa@ss` cut at a later '/')
    runs to the url's last '@' when there is one past it: better a path hidden than a password
    shown. Only an IP address and port (rtsp://10.0.0.5:554/ch1?u=a@b) keep their path: a
    hostname and port cannot be told from a user and a password that begins with digits.
    """
    _, sep, rest = url.partition("://")
    if not sep:
        return ""
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo = authority.rpartition("@")[0] if "@" in authority else authority
    before, _, after = rest.rpartition("@")
    if ":" not in userinfo or len(before) < len(authority) or _IP_AND_PORT.fullmatch(authority):
        return authority
    return f"{before}@{re.split(r'[/?#]', after, maxsplit=1)[0]}"


def redact_urls(text: str) -> str:
    """`text` with the password of every url in it replaced by ***."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
