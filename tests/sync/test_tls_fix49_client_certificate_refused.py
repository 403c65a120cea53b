"""A broker that requires a client certificate refuses the gateway's TLS (none given, one its CA
did not sign, an expired one): what the installer reads on /api/health and in the journal."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import running
from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, Tls, free_port, make_certs, wait_for

from gateway.api.app import create_app
from gateway.config import SiteConfig


def _expired_client_certificate(tls: Tls) -> Path:
    """A client certificate signed by the broker's CA that ended yesterday."""
    subprocess.run(
        ["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "-1", "-out", "old.crt", "-extfile", "client.ext"],
        check=True, capture_output=True, cwd=tls.ca.parent,
    )  # fmt: skip
    return tls.ca.parent / "old.crt"


@pytest.mark.parametrize(
    ("client", "said"),
    [
        ("none", "requires a client certificate, and [mqtt] cert_file gives none"),
        ("another_ca", "not signed by a CA the broker trusts"),
        ("expired", "expired"),
    ],
)
def test_a_broker_refusing_the_client_certificate_is_a_refusal_named_on_api_health(
    client: str,
    said: str,
    brokers: Callable[..., Mosquitto],
    tmp_path: Path,
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The property company's broker requires a client certificate (require_certificate), and the
    gateway gives none, one of another CA or an expired one. Under TLS 1.3 the broker's alert came on
    the first read, after the gateway's own handshake had succeeded: /api/health said only
    "connection closed before the broker answered: Unspecified error", status ok, retried with the
    reconnect backoff. It is a refusal of the credentials, as a wrong password is: state refused,
    status degraded, the certificate and the key to set named, said once, retried after
    auth_retry_s."""
    tls = make_certs(tmp_path / "certs")
    broker = brokers(tls=tls, require_certificate=True)
    broker.start()
    settings: dict[str, object] = {"ca_file": tls.ca, "auth_retry_s": 1.0}
    if client == "another_ca":
        other = make_certs(tmp_path / "other")
        settings.update(cert_file=other.client_cert, key_file=other.client_key)
    if client == "expired":
        settings.update(cert_file=_expired_client_certificate(tls), key_file=tls.client_key)
    cfg = sync_cfg(broker.port, **settings)
    with caplog.at_level(logging.INFO), running(cfg) as (gw, service):
        wait_for("the refusal", lambda: service.link.state == "refused", 30)
        began, refused_at = time.monotonic(), service.link.attempts
        api = TestClient(create_app(gw, service))
        # Read while refused: on a loaded box the retry after auth_retry_s may already be under way
        # (connecting) by the time one read is answered.
        health = wait_for(
            "/api/health saying refused",
            lambda: (h := api.get("/api/health").json())["mqtt"]["state"] == "refused" and h,
            30,
        )
        # auth_retry_s (1 s, each wait 75-100 % of it), not the reconnect backoff (0.05 s here).
        wait_for("two attempts more", lambda: service.link.attempts >= refused_at + 2, 30)
        waited = time.monotonic() - began
        wait_for("the refusal again", lambda: service.link.state == "refused", 30)
        still = service.link.status()
    broker.stop()
    mqtt = health["mqtt"]
    error = mqtt["last_error"] or ""
    assert mqtt["state"] == "refused", mqtt
    assert health["status"] == "degraded"
    assert "client certificate" in error and said in error, error
    assert still["last_error"] == error, still  # every attempt: the alert read, or lost (link.py)
    assert waited >= 2 * 0.75 - 0.2, f"retried after {waited:.2f} s: the reconnect backoff, not auth_retry_s"
    journal = [r for r in caplog.records if r.levelno >= logging.WARNING and "certificate" in r.getMessage()]
    assert len(journal) == 1, [r.getMessage() for r in journal]
    assert "[mqtt] cert_file and [mqtt] key_file" in journal[0].getMessage()  # the fix


@contextlib.contextmanager
def tls12_server_requiring_a_certificate(tls: Tls) -> Iterator[int]:
    """A TLS 1.2 server on loopback that requires a client certificate of `tls`'s CA (mosquitto's
    tls_version sets only the least version): its alert ends the handshake itself."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
    context.load_verify_locations(cafile=str(tls.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_under_tls_1_2_a_client_certificate_refused_in_the_handshake_is_a_refusal_too(
    tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    tls, other = make_certs(tmp_path / "certs"), make_certs(tmp_path / "other")
    with tls12_server_requiring_a_certificate(tls) as port:
        cfg = sync_cfg(port, ca_file=tls.ca, cert_file=other.client_cert, key_file=other.client_key)
        with running(cfg) as (_, service):
            wait_for("the refusal", lambda: service.link.state == "refused", 30)
            status = service.link.status()
    assert "refused the client certificate [mqtt] cert_file" in status["last_error"], status
    assert "not signed by a CA the broker trusts" in status["last_error"], status
