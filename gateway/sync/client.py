"""The paho boundary: one MQTT 5 connection, its callbacks turned into typed events.

Each connection attempt uses a fresh paho client. paho keeps unacknowledged QoS 1 messages in memory
and resends them after a reconnect; the outbox already does that durably, so a fresh client per
connection keeps one source of truth and lets the uplink decide what goes out, in which order.

A broker that requires a client certificate refuses one it does not take with a TLS alert. Under
TLS 1.3 that alert comes after the gateway's own handshake succeeded, on the first read, where paho
only logs it and reports a connection lost: the socket keeps the error (_TlsSocket), and the
connection reports it as the refusal it is.

A gateway's CONNECT names the largest packet it takes (Maximum Packet Size): mosquitto delivers up
to 256 MB by default, and each message is held whole in memory (paho's buffer, the text, its JSON)
and written to the downlink inbox before anything can refuse it. A broker that sends a larger one
all the same has it dropped here, acknowledged and not handed on (_on_message).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gateway.sync.errors import (
    BrokerRefused,
    BrokerUnreachable,
    CertificateRefused,
    LinkError,
    LinkSetupError,
    TlsFailed,
    certificate_refused,
    connack_error,
    is_certificate_alert,
)
from gateway.sync.said_every import SaidEvery

log = logging.getLogger(__name__)
_PAHO_LOG = logging.getLogger("paho")

# paho holds back a QoS 1 message over its in-flight limit until an ack frees a slot. The gateway
# keeps its own window (the uplink's, at most [mqtt] inflight, and the broker's Receive Maximum
# less these); paho's limit leaves room above it for the one retained topic in flight and the
# `offline` status sent at a stop, which would otherwise wait behind a full window of records.
_PAHO_HEADROOM = 2
# How long a stop waits for the broker to take its last message (the `offline` status).
_LAST_WAIT_S = 2.0
# MQTT 5 DISCONNECT 0x04: the broker publishes the last will all the same.
_LEAVE_WITH_WILL = ReasonCode(PacketTypes.DISCONNECT, identifier=4)

# How the gateway's config names the TLS files; the central sink names its options instead.
MQTT_TLS_NAMES: Mapping[str, str] = {name: f"[mqtt] {name}" for name in ("ca_file", "cert_file", "key_file")}


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive: int = 30
    session_expiry: int = 0
    clean_start: bool = False
    inflight: int = 100
    will: tuple[str, bytes] | None = None  # retained, QoS 1
    manual_ack: bool = False
    connect_timeout: float = 5.0
    tls_names: Mapping[str, str] = field(default_factory=lambda: MQTT_TLS_NAMES)  # in errors
    # The largest message taken ([mqtt] max_received_kb), announced in CONNECT; None: no limit.
    max_packet_size: int | None = None

    @property
    def broker(self) -> str:
        return f"{'mqtts' if self.ca_file else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Connected:
    session_present: bool
    receive_maximum: int  # the broker's limit on QoS 1 messages in flight from us
    max_packet_size: int | None  # the largest packet the broker accepts, if it says


@dataclass(frozen=True, slots=True)
class Refused:
    error: BrokerRefused


@dataclass(frozen=True, slots=True)
class Lost:
    reason: str


@dataclass(frozen=True, slots=True)
class Acked:
    mid: int
    code: int  # PUBACK reason code: below 0x80 accepted, from 0x80 refused

    @property
    def refused(self) -> bool:
        return self.code >= 0x80


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int


@dataclass(frozen=True, slots=True)
class Subscribed:
    mid: int
    refused: tuple[tuple[str, int], ...] = ()  # (topic filter, SUBACK reason code) not granted


LinkEvent = Connected | Refused | Lost | Acked | Received | Subscribed
Sink = Callable[[Any], None]


class _TlsSocket(ssl.SSLSocket):
    """A TLS socket that keeps the error a read ended in, which paho only logs. A write that fails
    because the broker closed the connection (the gateway's CONNECT, sent as soon as its handshake
    succeeded) fails with the alert the broker sent before closing, unread until then."""

    read_failure: ssl.SSLError | None = None

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        try:
            return super().recv(buflen, flags)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise  # nothing to read yet: paho waits
        except ssl.SSLError as exc:
            self.read_failure = exc
            raise

    def send(self, data: Any, flags: int = 0) -> int:
        try:
            return super().send(data, flags)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            with contextlib.suppress(OSError):  # no alert waiting: the write's own error
                self.recv(1024)
            if self.read_failure is not None:
                raise self.read_failure from exc
            raise


# paho's ERROR lines for a connection that failed or was lost (its read or write failed, or its
# network loop ran on after the socket closed). The link reports each loss itself (Lost, Refused)
# and says a repeated fault once (SyncLink._error); paho wrote one at every reconnect attempt to a
# port that resets or hangs each connection, a journal of ERRORs (Review 66 G).
_SOCKET_FAILED = ("failed to receive on socket: %s", "timeout on socket: %s")
_NOT_CONNECTED = "Client is not connected."


def _paho_line(record: logging.LogRecord) -> bool:
    """paho logs each failed read at ERROR. The broker's alert refusing the client certificate is
    reported as a refusal instead (Refused, said once), not a line at every attempt. A connection
    reset, closed (under TLS too) or timed out goes to DEBUG (shown with --log-level DEBUG): the
    link says it once. A TLS error other than a certificate's refusal stays ERROR, as do paho's
    other errors (an exception in a callback of ours)."""
    args = record.args if isinstance(record.args, tuple) else ()
    if any(isinstance(a, ssl.SSLError) and is_certificate_alert(a.reason) for a in args):
        return False
    failed = record.msg in _SOCKET_FAILED and not any(_tls_fault(a) for a in args)
    if record.levelno > logging.DEBUG and (failed or str(record.msg).startswith(_NOT_CONNECTED)):
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return _PAHO_LOG.isEnabledFor(logging.DEBUG)
    return True


def _tls_fault(arg: object) -> bool:
    """A TLS error that is not the connection closing (under TLS, a close is SSLEOFError)."""
    return isinstance(arg, ssl.SSLError) and not isinstance(arg, ssl.SSLEOFError | ssl.SSLZeroReturnError)


_PAHO_LOG.addFilter(_paho_line)


class _Encrypted(Exception):
    """The key asks for a password that there is none to give (paho would ask it on a terminal)."""


def _no_password() -> str:
    raise _Encrypted


def tls_files_unusable(
    ca_file: Path, cert_file: Path | None, key_file: Path | None, names: Mapping[str, str]
) -> LinkSetupError | None:
    """The first TLS file that does not load as Connection loads them (paho's tls_set), named as
    `names` calls ca_file, cert_file and key_file (--ca-file, [mqtt] ca_file), with what to do. In
    tls_set a missing file, or one that is no certificate, is a raw OSError or ssl.SSLError, and an
    encrypted key asks its password on a terminal."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    what = "the CA certificate that signed the broker's certificate"
    problem = _certificate_unusable(context, ca_file, names["ca_file"], what)
    if problem is not None or cert_file is None:
        return problem
    problem = _certificate_unusable(context, cert_file, names["cert_file"], "the client certificate")
    return problem or _key_unusable(context, cert_file, key_file, names)


def _certificate_unusable(context: ssl.SSLContext, path: Path, name: str, what: str) -> LinkSetupError | None:
    """`path` read as PEM certificates (a client certificate loads so too, without its key)."""
    try:
        context.load_verify_locations(cafile=str(path))
    except ssl.SSLError as exc:
        return LinkSetupError(
            f"{name} {path}: no certificate in it ({exc.reason or exc})",
            fix=f"give {name} {what} in PEM form, a text file beginning -----BEGIN CERTIFICATE----- "
            "(one in binary DER: openssl x509 -inform der -in FILE -out FILE.pem)",
        )
    except OSError as exc:
        return _unreadable(path, name, what, exc)
    return None


def _key_unusable(
    context: ssl.SSLContext, cert_file: Path, key_file: Path | None, names: Mapping[str, str]
) -> LinkSetupError | None:
    """The client certificate's private key: key_file, or the certificate's own file without one."""
    name, path = (names["key_file"], key_file) if key_file is not None else (names["cert_file"], cert_file)
    fix = f"give {names['key_file']} the private key made with the client certificate, in PEM form"
    try:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None, _no_password)
    except _Encrypted:
        return LinkSetupError(
            f"{name} {path}: the private key is encrypted, and there is no password to give it",
            fix=f"give {name} the key unencrypted (openssl pkey -in {path} -out client.key; chmod 600 "
            "client.key, readable by the user the service runs as only)",
        )
    except ssl.SSLError as exc:
        if key_file is None:
            said = f"{name} {path}: holds the certificate but not its private key"
        elif exc.reason == "KEY_VALUES_MISMATCH":
            said = f"{name} {path}: not the private key of {names['cert_file']} {cert_file}"
        else:
            said = f"{name} {path}: no private key in it ({exc.reason or exc})"
        return LinkSetupError(said, fix=fix)
    except OSError as exc:
        return _unreadable(path, name, "the client certificate's private key", exc)
    return None


def _tls_context(ca_file: Path, cert_file: Path | None, key_file: Path | None) -> ssl.SSLContext:
    """As paho's tls_set makes it (the broker's certificate and host verified), with sockets that
    keep the error a read ended in."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None, _no_password)
    context.load_verify_locations(cafile=str(ca_file))
    context.sslsocket_class = _TlsSocket
    return context


def _unreadable(path: Path, name: str, what: str, exc: OSError) -> LinkSetupError:
    return LinkSetupError(
        f"{name} {path}: cannot read it: {exc.strerror or exc}",
        fix=f"copy {what} there, readable by the user the service runs as, or give {name} the file "
        "that holds it",
    )


class Connection:
    """One connection to the broker. Events go to `sink` from paho's network thread."""

    def __init__(self, settings: Settings, sink: Sink):
        self.settings = settings
        self._sink = sink
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
            manual_ack=settings.manual_ack,
        )
        client.connect_timeout = settings.connect_timeout
        client.enable_logger(_PAHO_LOG)
        client.max_inflight_messages_set(settings.inflight + _PAHO_HEADROOM)
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if settings.ca_file is not None:
            client.tls_set_context(_tls_context(settings.ca_file, settings.cert_file, settings.key_file))
        if settings.will is not None:
            client.will_set(settings.will[0], settings.will[1], qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = self._on_socket_open
        self._client = client
        self._connected = False
        self._refused = False
        self._socket: Any = None  # a _TlsSocket under TLS, kept after paho closed it
        # The topics of each SUBSCRIBE not yet answered, by its mid, in their order: its SUBACK
        # answers each in turn. The lock: a SUBACK may come before subscribe() has kept them.
        self._subscribing: dict[int, list[str]] = {}
        self._subscribing_lock = threading.Lock()
        self.dropped = 0  # messages over max_packet_size, dropped on arrival
        self._dropped_said = SaidEvery()  # one at WARNING once a minute, the others at DEBUG

    def open(self) -> None:
        """Connect (TCP, TLS, CONNECT); the broker's answer comes as Connected or Refused."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry
        if self.settings.max_packet_size is not None:
            props.MaximumPacketSize = self.settings.max_packet_size
        s = self.settings
        try:
            self._client.connect(s.host, s.port, s.keepalive, clean_start=s.clean_start, properties=props)
        except ssl.SSLError as exc:  # ssl.CertificateError too
            refused = self._certificate_refused(exc)  # an alert in the handshake (TLS 1.2)
            if refused is not None:
                raise refused from exc
            raise self._tls_failed(exc) from exc
        except (TimeoutError, OSError) as exc:
            raise BrokerUnreachable(
                f"cannot connect to {s.broker}: {exc}",
                fix="check [mqtt] host and port and that the broker runs; the gateway keeps "
                "every record and retries",
            ) from exc
        self._client.loop_start()

    def _tls_failed(self, exc: ssl.SSLError) -> TlsFailed:
        return TlsFailed(
            f"TLS with {self.settings.broker} failed: {exc}",
            fix="check ca_file (the CA that signed the broker's certificate), that the "
            "broker's "
            "certificate names the host in [mqtt] host, and the client certificate and key",
        )

    def _certificate_refused(self, exc: ssl.SSLError | None) -> CertificateRefused | None:
        """The broker's alert refusing the client certificate, if `exc` is one."""
        if exc is None:
            return None
        s = self.settings
        return certificate_refused(exc.reason, s.broker, s.cert_file, s.tls_names)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise LinkError(f"publish on {topic} not sent: {paho.error_string(info.rc)}")
        return int(info.mid)

    def subscribe(self, topics: list[str], qos: int = 1) -> None:
        """Its SUBACK names what was refused (Subscribed.refused)."""
        with self._subscribing_lock:
            result, mid = self._client.subscribe([(t, qos) for t in topics])
            if mid is not None:
                self._subscribing[mid] = list(topics)
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise LinkError(f"subscribe failed: {paho.error_string(result)}")

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a received message (manual_ack): only once it is stored."""
        self._client.ack(mid, qos)

    def close(self, last: tuple[str, bytes] | None = None) -> None:
        """Disconnect cleanly (no last will), after `last` (retained) if still connected. Should
        the broker not have taken `last` within _LAST_WAIT_S (a slow link), the broker is told to
        publish the last will instead: a clean DISCONNECT would discard it, and the retained
        status the centre reads would say `online` for good."""
        reason = None
        if self._connected and last is not None:
            try:
                info = self._client.publish(last[0], last[1], qos=1, retain=True)
                info.wait_for_publish(timeout=_LAST_WAIT_S)
                if not info.is_published():
                    log.info(
                        "%s did not acknowledge %s in time: leaving with the last will",
                        self.settings.broker,
                        last[0],
                    )
                    reason = _LEAVE_WITH_WILL
            except (RuntimeError, ValueError) as exc:
                log.debug("last message not sent: %s", exc)
                reason = _LEAVE_WITH_WILL
        self._client.disconnect(reason)
        self._client.loop_stop()

    # paho callbacks, on paho's network thread: translate and hand over, nothing else.

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._refused = True
            self._sink(Refused(connack_error(int(reason.value), self.settings.broker)))
            return
        self._connected = True
        receive_maximum = getattr(properties, "ReceiveMaximum", 65535) if properties else 65535
        max_packet = getattr(properties, "MaximumPacketSize", None) if properties else None
        self._sink(Connected(bool(flags.session_present), int(receive_maximum), max_packet))

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        was = self._connected
        self._connected = False
        if self._refused:
            return  # already reported as Refused
        text = str(reason) if reason is not None else "connection lost"
        if was:
            self._sink(Lost(text))
            return
        failure = getattr(self._socket, "read_failure", None)
        refused = self._certificate_refused(failure)
        if refused is not None:
            self._refused = True
            self._sink(Refused(refused))
            return
        self._sink(Lost(f"connection closed before the broker answered: {failure or text}"))

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._socket = sock

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._sink(Acked(mid, int(reason.value) if reason is not None else 0))

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        limit = self.settings.max_packet_size
        if limit is not None and len(message.payload) > limit:  # acknowledged, never handed on
            self._dropped_too_large(message.topic, len(message.payload), limit)
            return
        self._sink(
            Received(
                message.topic,
                bytes(message.payload),
                message.qos,
                bool(message.retain),
                message.mid,
            )
        )

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        with self._subscribing_lock:
            topics = self._subscribing.pop(mid, [])
        refused = tuple(
            (topic, int(reason.value))
            for topic, reason in zip(topics, reasons, strict=False)
            if reason.is_failure
        )
        self._sink(Subscribed(mid, refused))

    def _dropped_too_large(self, topic: str, size: int, limit: int) -> None:
        """A message over the size announced in CONNECT, from a broker that sent it all the same
        (or one that ignores the property). Whoever may publish to the downlink topics could
        otherwise fill the gateway's memory and its inbox, so it is dropped. The topic is logged
        with %r: whoever published chose it."""
        self.dropped += 1
        unsaid = self._dropped_said.due()
        if unsaid is None:
            log.debug("message on %r of %d bytes dropped: over %d bytes", topic, size, limit)
            return
        log.warning(
            "message on %r of %d bytes dropped, not kept: over [mqtt] max_received_kb (%d bytes; and "
            "%d others since the last such line) fix: send smaller snapshot parts from the central "
            "server, or raise max_received_kb; check who may publish there in the broker's ACL",
            topic,
            size,
            limit,
            unsaid,
        )
