"""Real parts for the sync tests: a Mosquitto broker run by the test, certificates, a subscriber."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, every: float = 0.02) -> Any:
    """Poll until check() is truthy. The timeout only bounds a hang; it asserts no speed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout} s")
        time.sleep(every)


@dataclass
class Tls:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certs(out: Path, host: str = "127.0.0.1") -> Tls:
    """A CA, a server certificate for `host` and a client certificate, with the openssl CLI."""
    out.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=out)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    for name, cn in (("server", host), ("client", "gw-test-site")):
        run(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={cn}",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
        )
        ext = out / f"{name}.ext"
        san = f"subjectAltName=IP:{host}" if name == "server" else "extendedKeyUsage=clientAuth"
        ext.write_text(san + "\n")
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            f"{name}.crt",
            "-extfile",
            ext.name,
        )
    return Tls(
        out / "ca.crt",
        out / "server.crt",
        out / "server.key",
        out / "client.crt",
        out / "client.key",
    )


@dataclass
class Mosquitto:
    """A mosquitto process of the test's own, on a free loopback port, with a config it writes."""

    workdir: Path
    port: int = field(default_factory=free_port)
    users: dict[str, str] | None = None
    acl: str | None = None
    tls: Tls | None = None
    require_certificate: bool = False
    extra: str = ""
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not Path(MOSQUITTO).exists():
            raise AssertionError(
                "mosquitto is not installed: run scripts/system-deps (Debian package mosquitto)"
            )

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def write_config(self) -> Path:
        # As root, mosquitto drops to the 'mosquitto' user, which cannot read the test's files.
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {user}",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "max_inflight_messages 100",
            # Not 0 (unlimited): mosquitto 2.0.11 then drops the connection after it refuses
            # a QoS 1 publish with its ACL.
            "max_queued_messages 1000000",
        ]
        if self.users is not None:
            pw = self.workdir / "passwd"
            pw.write_text("")
            pw.chmod(0o600)
            for name, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(pw), name, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            acl = self.workdir / "acl"
            acl.write_text(self.acl)
            lines.append(f"acl_file {acl}")
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
            ]
            if self.require_certificate:
                lines.append("require_certificate true")
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n" + self.extra)
        return path

    def start(self) -> None:
        conf = self.write_config()
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("mosquitto did not open its port") from None
                time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_listening(service: Any, timeout: float = 30.0) -> None:
    """Until the gateway's link is connected and the broker has answered its subscription to the
    centre's topics: "connected" is said as the subscription is sent, and what a test publishes
    before the broker took it (a loaded CI box) reaches no subscriber and is lost."""
    wait_for("the link to listen", lambda: service.link.listening, timeout)


class Subscriber:
    """A test-side MQTT 5 client that records every message it gets, in order of arrival."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: list[str],
        *,
        client_id: str = "test-sub",
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
        tls: Tls | None = None,
    ):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.connects = 0
        self._lock = threading.Lock()
        self._topics = topics
        self._persistent = persistent
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        if tls is not None:
            self.client.tls_set(
                ca_certs=str(tls.ca), certfile=str(tls.client_cert), keyfile=str(tls.client_key)
            )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.05, 0.2)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600 if persistent else 0
        self.client.connect("127.0.0.1", broker.port, 30, clean_start=not persistent, properties=props)
        self.client.loop_start()
        wait_for("the subscriber to subscribe", lambda: self.connects > 0, 10)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        client.subscribe([(t, 1) for t in self._topics])

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self.connects += 1

    def _on_message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def payloads(self, suffix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Central:
    """The central server's side in a test: publishes snapshots, deltas and commands (QoS 1)."""

    def __init__(
        self,
        broker: Mosquitto,
        site: str,
        prefix: str = "estate",
        *,
        username: str | None = None,
        password: str | None = None,
    ):
        self.base = f"{prefix}/{site}"
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"central-{site}", protocol=paho.MQTTv5
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect("127.0.0.1", broker.port, 30)
        self.client.loop_start()

    def publish(self, what: str, payload: bytes) -> None:
        info = self.client.publish(f"{self.base}/{what}", payload, qos=1)
        info.wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
