"""Device urls as they may be shown: in a log line, a device's last error, a config error.

A camera url carries its password (rtsp://admin:secret@host/...). Shown anywhere, the password
becomes ***; the user name stays, as it helps to find which camera is meant. The gateway imports
from the drivers, never the other way round, so this lives here for both to use.
"""

from __future__ import annotations

import re

# What precedes the authority: a scheme and its slashes, however many were typed (rtsp:/host).
_HEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+")
# In a message: anything that may be `user:password@host`, with a scheme, a mistyped one or none.
_USER_AT = re.compile(r"[A-Za-z0-9_.+\-]+:\S*@\S*")
# An IP address and port: never a user name and password, which `user:` with no '@' may be.
_IP_AND_PORT = re.compile(r"(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}")


def redact_url(url: str) -> str:
    """rtsp://admin:p@ss:1@host:554/x -> rtsp://admin:***@host:554/x.

    The user information ends at the authority's last '@' and the user name at its first ':', as
    FFmpeg reads them, so a password holding '@' or ':' is hidden whole; one holding '/', '?' or
    '#' too (see _authority). A url typed with a slash lost (rtsp:/admin:pw@host) or without its
    scheme (admin:pw@host:554/..., as a camera's web page shows it) is the one a config error
    prints: its password is hidden as well, and `url` is taken as one value, so a password
    holding a space is hidden whole.
    """
    head = _HEAD.match(url)
    masked = _masked(url, head.end() if head else 0)
    if masked is None and head and "://" not in url:
        # Not a scheme's slash after all (admin:/pw@host), or a scheme with no user: better the
        # whole of it taken as the user information than a password shown.
        masked = _masked(url, 0)
    return url if masked is None else masked


def _masked(url: str, start: int) -> str | None:
    """`url` with the password of the authority that begins at `start` hidden; None if it has none."""
    rest = url[start:]
    authority = _authority(rest)
    userinfo, at, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return None
    return f"{url[:start]}{user}:***@{host}{rest[len(authority) :]}"


def _authority(rest: str) -> str:
    """What FFmpeg takes as the authority of the url whose scheme and slashes `rest` follows:
    up to the first '/', '?' or '#'.

    But a password may hold '/', '?' or '#' (Hikvision asks for a "special character"): FFmpeg
    then cannot read it, and the url is still shown in the error. So an authority whose user
    information holds a ':' (a password begun: `user:pass`, or `user:pa@ss` cut at a later '/')
    runs to the url's last '@' when there is one past it: better a path hidden than a password
    shown. Only an IP address and port (rtsp://10.0.0.5:554/ch1?u=a@b) keep their path: a
    hostname and port cannot be told from a user and a password that begins with digits.
    """
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo = authority.rpartition("@")[0] if "@" in authority else authority
    before, _, after = rest.rpartition("@")
    if ":" not in userinfo or len(before) < len(authority) or _IP_AND_PORT.fullmatch(authority):
        return authority
    return f"{before}@{re.split(r'[/?#]', after, maxsplit=1)[0]}"


def redact_urls(text: str) -> str:
    """`text` with the password of every url in it replaced by ***: whatever precedes a
    `user:password@`, a scheme, a mistyped one or none. (A password holding a space cannot be told
    from the words around it in a message; redact_url, given the url alone, hides it whole.)"""
    return _USER_AT.sub(lambda m: redact_url(m.group(0)), text)
