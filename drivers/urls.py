"""Device urls as they may be shown: in a log line, a device's last error, a config error.

A camera url carries its password (rtsp://admin:secret@host/...). Shown anywhere, the password
becomes ***; the user name stays, as it helps to find which camera is meant. The gateway imports
from the drivers, never the other way round, so this lives here for both to use.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


def redact_url(url: str) -> str:
    """rtsp://admin:p@ss:1@host:554/x -> rtsp://admin:***@host:554/x.

    The user information ends at the authority's last '@' and the user name at its first ':', as
    FFmpeg reads them, so a password holding '@' or ':' is hidden whole; one holding '/', '?' or
    '#' too (see _authority).
    """
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # a bad [IPv6] host
        netloc = ""
    if "@" not in netloc or netloc not in url:  # unparsed, or urlsplit dropped tabs or spaces
        netloc = _authority(url)
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***@{host}" if colon else netloc
    return url.replace(netloc, shown, 1)


def _authority(url: str) -> str:
    """What FFmpeg takes as the authority: from '://' to the first '/', '?' or '#'.

    But a password may hold '/', '?' or '#' (Hikvision asks for a "special character"): FFmpeg
    then cannot read it, and the url is still shown in the error. So an authority that starts
    as `user:` with no '@' runs to the url's last '@': better a path hidden than a password shown.
    """
    _, sep, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else ""
    userinfo, at, after = rest.rpartition("@")
    if "@" in authority or ":" not in authority or not at:
        return authority
    return f"{userinfo}@{re.split(r'[/?#]', after, maxsplit=1)[0]}"


def redact_urls(text: str) -> str:
    """`text` with the password of every url in it replaced by ***."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
