"""A gateway whose [mqtt] ca_file, cert_file or key_file is there but does not load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import running
from sync_helpers import free_port, make_certs, wait_for

from gateway.config import SiteConfig


def _link_reports(cfg: SiteConfig) -> dict[str, object]:
    with running(cfg) as (_, service):
        wait_for("the link's error", lambda: service.link.last_error)
        status = service.link.status()
        alive = service.link._thread is not None and service.link._thread.is_alive()
    assert alive, f"the link stopped for good: {status}"
    return status


def test_a_ca_file_that_is_no_certificate_is_reported_and_the_link_keeps_trying(
    tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """[mqtt] ca_file names a file that is there but holds no certificate (the CA's key copied in
    its place, a DER file): paho's tls_set raised ssl.SSLError out of the link's thread, which
    ended. The link's state read "stopped" with no last_error, and no record ever went up, as if
    sync were off. It is a setup error of the link, named with the key and the file, retried as a
    missing file is."""
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    status = _link_reports(sync_cfg(free_port(), ca_file=junk))
    assert f"[mqtt] ca_file {junk}" in str(status["last_error"]), status
    assert status["state"] == "error", status


def test_a_client_key_that_is_not_the_certificates_is_reported(
    tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    tls = make_certs(tmp_path / "certs")
    cfg = sync_cfg(free_port(), ca_file=tls.ca, cert_file=tls.client_cert, key_file=tls.server_key)
    status = _link_reports(cfg)
    assert f"[mqtt] key_file {tls.server_key}" in str(status["last_error"]), status
