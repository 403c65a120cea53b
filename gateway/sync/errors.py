"""Errors of the MQTT link, and MQTT reason codes turned into text an installer can act on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.errors import GatewayError


class LinkError(GatewayError):
    """The link to the broker cannot be set up or was lost."""


class BrokerUnreachable(LinkError):
    """No connection: the broker is down, the address is wrong, or the network is out."""


class TlsFailed(LinkError):
    """The TLS handshake failed: a wrong CA, an expired or mismatched certificate."""


class BrokerRefused(LinkError):
    """The broker answered CONNACK with a refusal (credentials, client id, protocol)."""

    def __init__(self, code: int, message: str, *, fix: str = ""):
        self.code = code
        super().__init__(message, fix=fix)

    @property
    def credentials(self) -> bool:
        """A refusal that retrying soon will not cure: wait auth_retry_s before the next attempt."""
        return self.code in (0x86, 0x87, 0x8A, 0x8C)


class CertificateRefused(BrokerRefused):
    """The broker's TLS refused the client certificate with an alert, before any CONNACK (under
    TLS 1.3 on the first read, after the gateway's own handshake succeeded): a refusal of the
    credentials, as a wrong password is, not cured by retrying soon."""

    def __init__(self, alert: str, message: str, *, fix: str):
        self.alert = alert  # OpenSSL's reason: TLSV13_ALERT_CERTIFICATE_REQUIRED ...
        super().__init__(0, message, fix=fix)  # no CONNACK, so no reason code

    @property
    def credentials(self) -> bool:
        return True


class LinkSetupError(LinkError):
    """The link's own settings cannot be used (a missing password or key file)."""


class DownlinkRejected(GatewayError):
    """A message from the central server that is refused; `code` goes into the error reply."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        version: int | None = None,
        problems: list[str] | None = None,
    ):
        self.code = code
        self.version = version
        self.problems = problems or []
        super().__init__(message)


# CONNACK reason codes (MQTT 5, section 3.2.2.2) and what the installer should do about each.
CONNACK_FIXES: dict[int, tuple[str, str]] = {
    0x80: ("unspecified error", "look at the broker's log"),
    0x84: (
        "unsupported protocol version",
        "the broker must speak MQTT 5 (mosquitto 2, EMQX, HiveMQ, VerneMQ all do)",
    ),
    0x85: ("client identifier not valid", "set [mqtt] client_id to letters, digits, - and _"),
    0x86: ("bad user name or password", "check [mqtt] username and the password in password_file"),
    0x87: (
        "not authorized",
        "check [mqtt] username, the password in password_file and the client "
        "certificate, and that the broker's ACL lets this gateway connect",
    ),
    0x88: ("server unavailable", "the broker is starting or overloaded; the gateway retries"),
    0x89: ("server busy", "the broker is overloaded; the gateway retries"),
    0x8A: ("banned", "the broker has banned this client; ask the broker's administrator"),
    0x8C: ("bad authentication method", "the broker wants another authentication method"),
    0x95: ("packet too large", "the broker's maximum packet size is too small for the CONNECT"),
    0x97: ("quota exceeded", "the broker's connection quota is exhausted"),
    0x9F: ("connection rate exceeded", "the broker limits reconnects; the gateway backs off"),
}

# PUBACK reason codes: a refusal of one message; it is quarantined, the others keep flowing.
PUBACK_TEXT: dict[int, str] = {
    0x80: "unspecified error",
    0x83: "implementation specific error",
    0x87: "not authorized (the broker's ACL refuses this topic for this gateway)",
    0x90: "topic name invalid",
    0x91: "packet identifier in use",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x99: "payload format invalid",
}


def connack_error(code: int, broker: str) -> BrokerRefused:
    text, fix = CONNACK_FIXES.get(code, (f"reason code 0x{code:02X}", "look at the broker's log"))
    return BrokerRefused(code, f"the broker {broker} refused the connection: {text}", fix=fix)


# TLS alerts the broker sends about the client certificate (OpenSSL's reason less its SSLV3_ALERT_,
# TLSV1_ALERT_ or TLSV13_ALERT_): what the broker found wrong, and the certificate to give it.
CERTIFICATE_ALERTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_CA": (
        "not signed by a CA the broker trusts (unknown CA)",
        "a certificate signed by the broker's CA",
    ),
    "CERTIFICATE_EXPIRED": (
        "expired, or not valid yet, by the broker's clock",
        "a current certificate signed by the broker's CA",
    ),
    "CERTIFICATE_REVOKED": ("revoked", "a new certificate signed by the broker's CA"),
    "BAD_CERTIFICATE": ("a bad certificate", "a certificate signed by the broker's CA"),
    "CERTIFICATE_UNKNOWN": ("not accepted (certificate unknown)", "a certificate signed by the broker's CA"),
    "UNSUPPORTED_CERTIFICATE": (
        "not for a client (unsupported certificate)",
        "a certificate signed by the broker's CA with extendedKeyUsage clientAuth",
    ),
    "ACCESS_DENIED": ("not let in (access denied)", "a certificate the broker's administrator lets connect"),
}


def certificate_refused(
    reason: str | None, broker: str, cert_file: Path | None, names: Mapping[str, str]
) -> CertificateRefused | None:
    """The refusal an OpenSSL error `reason` is if it is the broker's alert about the client
    certificate (cert_file, named as `names` calls cert_file and key_file), else None."""
    if not is_certificate_alert(reason):
        return None
    alert = _alert(reason)
    cert, key = names["cert_file"], names["key_file"]
    if alert == "CERTIFICATE_REQUIRED" or cert_file is None:
        return CertificateRefused(
            alert,
            f"the broker {broker} refused the connection: it requires a client certificate, and "
            f"{cert} gives none",
            fix=f"set {cert} and {key} to a client certificate signed by the broker's CA and its key",
        )
    what, give = CERTIFICATE_ALERTS[alert]
    return CertificateRefused(
        alert,
        f"the broker {broker} refused the client certificate {cert} {cert_file}: {what}",
        fix=f"set {cert} and {key} to {give}, and its key",
    )


def is_certificate_alert(reason: str | None) -> bool:
    """Whether an OpenSSL error `reason` is the broker's alert about the client certificate."""
    return _alert(reason) in CERTIFICATE_ALERTS or _alert(reason) == "CERTIFICATE_REQUIRED"


def _alert(reason: str | None) -> str:
    return (reason or "").partition("_ALERT_")[2]


def puback_text(code: int) -> str:
    return f"{PUBACK_TEXT.get(code, 'refused')} (0x{code:02X})"
