"""Device urls as they may be shown: in a log line, a device's last error, a config error.

A camera url carries its password (rtsp://admin:secret@host/...), an MJPEG camera's in its
query (http://host/videostream.cgi?user=admin&pwd=secret), or a Xiongmai (XMEye) camera's in its
path (rtsp://host/user=admin_password=secret_channel=1_stream=0.sdp). Shown anywhere, the password
becomes ***; the user name stays, as it helps to find which camera is meant. The gateway imports from the
drivers, never the other way round, so this lives here for both to use, with the words that say a
name holds a secret (a query parameter here, a config key there).
"""

from __future__ import annotations

import re

# What precedes the authority: a scheme and its slashes, however many were typed (rtsp:/host).
_HEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+")
# In a message: anything that may be `user:password@host`, with a scheme, a mistyped one or none.
_USER_AT = re.compile(r"[A-Za-z0-9_.+\-]+:\S*@\S*")
# An IP address and port: never a user name and password, which `user:` with no '@' may be.
_IP_AND_PORT = re.compile(r"(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}")
# A host and port with a dot in the host (cam-east.local:554) or localhost: never a user name and
# password as one is typed for a camera (admin:Abc#1234), so an '@' after it is in the path.
_NAMED_HOST_AND_PORT = re.compile(r"(localhost|[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+):\d{1,5}")
# A name and a port: a LAN host as a hosts entry or the router's DNS names it (cam1:554), or a user
# name and a password that begins with digits (admin:1234#5@host), which cannot be told apart.
_NAME_AND_PORT = re.compile(r"[A-Za-z0-9_\-]+:\d{1,5}")
# What names a host after a url's last '@': a name or an address, and a port.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)(:\d{0,5})?")
# The characters FFmpeg ends a url's authority at: a user name or password holding one never logs in.
USERINFO_CUT = "#?/"
# A query parameter, `name=value`, after the '?' or between '&' or ';'. Its value runs to the next
# parameter or the fragment: in a url given whole, spaces included (a password typed with one); in
# a message, to the next space (a quote after it hidden too).
_QUERY_NAME = r"(?<=[?&;])([^=&;#?/\s]+)="
_QUERY_IN_URL = re.compile(_QUERY_NAME + r"([^&;#]*)")
_QUERY_IN_TEXT = re.compile(_QUERY_NAME + r"([^&;#\s]*)")
# A parameter in the path, after a '/' or a '_', as Xiongmai (XMEye) cameras and NVRs take their
# login: /user=admin_password=..._channel=1_stream=0.sdp. Its value runs to the next `_name=`, '&'
# or '?' (a password holding '_' hidden whole); in a message, to the next space too.
_PATH_NAME = r"(?<=[/_])([A-Za-z][A-Za-z0-9]*)="
_PATH_IN_URL = re.compile(_PATH_NAME + r"(.*?)(?=_[A-Za-z][A-Za-z0-9]*=|[&?]|$)")
_PATH_IN_TEXT = re.compile(_PATH_NAME + r"(.*?)(?=_[A-Za-z][A-Za-z0-9]*=|[&?\s]|$)")

# Words of a name that say its value is a secret, or was typed as one: a url's parameter (pwd) or
# a config key (password_file: the password itself typed into it is what it would show). Whole
# words (split at _ and -), so that anti_passback is no password; the longer ones anywhere in it
# (mqttpassword; loginpas, as Foscam's CGI names the password).
SECRET_WORDS = frozenset({"pass", "pwd", "pw", "key", "keys", "private"})
SECRET_PARTS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "credential", "loginpas")
# A secret as a url's parameter (?auth=..., &basic_auth=...), but a config key's word for settings
# about the login (auth_retry_s, the wait after the broker refused it): there, only the whole name.
PARAMETER_SECRET_WORDS = frozenset({"auth"})


def is_secret_name(name: str) -> bool:
    """Whether a config key (or any name) says that its value is a password, key or token."""
    lowered = name.lower()
    words = re.split(r"[^a-z0-9]+", lowered)
    return (
        any(word in SECRET_WORDS for word in words)
        or any(part in lowered for part in SECRET_PARTS)
        or lowered in PARAMETER_SECRET_WORDS
    )


def is_secret_parameter(name: str) -> bool:
    """Whether a url's parameter (in its query or its path) says that its value is a secret."""
    words = re.split(r"[^a-z0-9]+", name.lower())
    return is_secret_name(name) or any(word in PARAMETER_SECRET_WORDS for word in words)


def redact_url(url: str) -> str:
    """rtsp://admin:p@ss:1@host:554/x -> rtsp://admin:***@host:554/x.

    The user information ends at the authority's last '@' and the user name at its first ':', as
    FFmpeg reads them, so a password holding '@' or ':' is hidden whole; one holding '/', '?' or
    '#' too (see _authority). A url typed with a slash lost (rtsp:/admin:pw@host) or without its
    scheme (admin:pw@host:554/..., as a camera's web page shows it) is the one a config error
    prints: its password is hidden as well, and `url` is taken as one value, so a password
    holding a space is hidden whole. The value of a parameter named as a secret, in the query or
    the path, is hidden too, spaces included: http://host/videostream.cgi?user=admin&pwd=***,
    rtsp://host/user=admin_password=***_channel=1 (see _secret_parameters_hidden).
    """
    head = _HEAD.match(url)
    masked = _masked(url, head.end() if head else 0)
    if masked is None and head and "://" not in url:
        # Not a scheme's slash after all (admin:/pw@host), or a scheme with no user: better the
        # whole of it taken as the user information than a password shown.
        masked = _masked(url, 0)
    return _secret_parameters_hidden(url if masked is None else masked, whole_url=True)


def _secret_parameters_hidden(text: str, whole_url: bool = False) -> str:
    """`text` with the value of every parameter, in a query or a path, whose name says secret (pwd,
    password, token, auth, api_key: is_secret_parameter) replaced by ***; the others (user, channel)
    kept, as they say which camera is meant. `whole_url`: `text` is one url, its values running
    across spaces. Run once the user information is hidden, as a '?' in a password would otherwise
    be taken for the query's."""
    query, path = (_QUERY_IN_URL, _PATH_IN_URL) if whole_url else (_QUERY_IN_TEXT, _PATH_IN_TEXT)
    return path.sub(_secret_hidden, query.sub(_secret_hidden, text))


def _secret_hidden(parameter: re.Match[str]) -> str:
    name = parameter.group(1)
    return f"{name}=***" if is_secret_parameter(name) else parameter.group(0)


def _masked(url: str, start: int) -> str | None:
    """`url` with the password of the authority that begins at `start` hidden; None if it has none."""
    rest = url[start:]
    authority = _authority(rest)
    userinfo, at, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return None
    # An authority taken on to an '@' in the path (see _authority) where that '@' is in a secret
    # parameter's value (XMEye's rtsp://cam1:554/user=admin&password=p@ss2026&channel=1): what
    # follows it is that password's end, hidden too.
    end = _secret_value_end(rest, len(userinfo))
    return f"{url[:start]}{user}:***{rest[end:] if end else '@' + rest[len(userinfo) + 1 :]}"


def _secret_value_end(rest: str, at: int) -> int:
    """Where the value that holds the '@' at `at` ends, in `rest` (a url after its scheme) read as
    an authority with no user information and a path or query, if it is a secret parameter's
    (password=p@ss); 0 where none holds it."""
    for pattern in (_QUERY_IN_URL, _PATH_IN_URL):
        for parameter in pattern.finditer(rest):
            if is_secret_parameter(parameter.group(1)) and parameter.start(2) <= at < parameter.end(2):
                return parameter.end(2)
    return 0


def _authority(rest: str) -> str:
    """What FFmpeg takes as the authority of the url whose scheme and slashes `rest` follows:
    up to the first '/', '?' or '#'.

    But a password may hold '/', '?' or '#' (Hikvision asks for a "special character"): FFmpeg
    then cannot read it, and the url is still shown in the error. So an authority whose user
    information holds a ':' (a password begun: `user:pass`, or `user:pa@ss` cut at a later '/')
    runs to the url's last '@' when there is one past it: better a path hidden than a password
    shown. Only an IP address and port (rtsp://10.0.0.5:554/ch1?u=a@b) keep their path: a
    hostname and port cannot be told from a user and a password that begins with digits (and
    where that '@' is in a secret parameter's value, _masked hides the value's end as well).
    """
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo = authority.rpartition("@")[0] if "@" in authority else authority
    before, _, after = rest.rpartition("@")
    if ":" not in userinfo or len(before) < len(authority) or _IP_AND_PORT.fullmatch(authority):
        return authority
    return f"{before}@{re.split(r'[/?#]', after, maxsplit=1)[0]}"


def userinfo_cut(url: str) -> str:
    """The characters of USERINFO_CUT in the user name and password of `url` (in the order they
    come: "#" for rtsp://admin:Abc#1234@host/...), "" where there are none.

    FFmpeg takes the authority up to the first '/', '?' or '#' (see _authority), so for a password
    holding one it asks another host, or this one with a password cut short, and never logs in:
    the camera is offline as if the password were wrong. The user information is the text between
    '://' and the url's last '@', where the text before the first of those characters begins a
    password (holds a ':', no '@') and is not a host and port (rtsp://10.0.0.5:554/ch1?u=a@b,
    rtsp://cam.local:554/..., rtsp://cam1:554/user=admin&password=p@ss: an '@' in the path or query
    of a url that has no password). `name:digits` may be either: see userinfo_maybe_cut."""
    cut, certain = _userinfo_cut(url)
    return cut if certain else ""


def userinfo_maybe_cut(url: str) -> str:
    """As userinfo_cut, for a url whose text before the first '/', '?' or '#' is `name:digits` and
    which names a host after its last '@' (admin:1234#5@cam.local/h264, or cam1:554/live?u=a@b):
    a user name and a password begun with digits that FFmpeg never logs in with, or a LAN host, its
    port and an '@' in the path that it opens. "" for any other url."""
    cut, certain = _userinfo_cut(url)
    return "" if certain else cut


def _userinfo_cut(url: str) -> tuple[str, bool]:
    """userinfo_cut's characters, and whether they are certainly in a password."""
    head = _HEAD.match(url)
    if head is None or "://" not in head.group(0):
        return "", True
    rest = url[head.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority or ":" not in authority or "@" not in rest[len(authority) :]:
        return "", True
    if _IP_AND_PORT.fullmatch(authority) or _NAMED_HOST_AND_PORT.fullmatch(authority):
        return "", True
    userinfo, _, after = rest.rpartition("@")
    cut = "".join(dict.fromkeys(c for c in userinfo if c in USERINFO_CUT))
    if not _NAME_AND_PORT.fullmatch(authority):
        return cut, True
    host = re.split(r"[/?#]", after, maxsplit=1)[0]
    if not _HOST.fullmatch(host) or _secret_value_end(rest, len(userinfo)):
        # The '@' is in a password in the path (XMEye's password=p@ss2026), or no host follows it
        # (...&password=p@ss2026&channel=1): a host and its port, and no user information.
        return "", True
    return cut, False


def redact_urls(text: str) -> str:
    """`text` with the password of every url in it replaced by ***: whatever precedes a
    `user:password@`, a scheme, a mistyped one or none, and the value of a secret's parameter
    (?user=admin&pwd=***, /user=admin_password=***_channel=1). (A password holding a space cannot
    be told from the words around it in a message; redact_url, given the url alone, hides it whole.)"""
    return _secret_parameters_hidden(_USER_AT.sub(lambda m: redact_url(m.group(0)), text))
