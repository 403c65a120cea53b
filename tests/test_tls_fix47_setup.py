"""HTTPS on the LAN: what `gateway check-config` and the start say of the [http] certificate and key
(a key with a pass phrase, DER files, a chain in the wrong order, files the unit's sandbox hides, a
key open to everyone, a certificate expired or about to)."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from gateway.bench.common import free_port
from gateway.config import EX_CONFIG
from gateway.config.filecheck import HIDDEN_FROM_SERVICE
from tests.conftest import site_toml
from tests.sync.sync_helpers import make_certs
from tests.test_unit_sandbox import _service

REPO = Path(__file__).resolve().parents[1]


def _https_site(tmp_path: Path, cert: Path, key: Path, extra: str = "") -> Path:
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data", port=free_port()).replace(
            "[http]\n", f'[http]\ntls_cert_file = "{cert}"\ntls_key_file = "{key}"\n', 1
        )
        + extra,
        encoding="utf-8",
    )
    return config


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(config)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


# A key with a pass phrase -------------------------------------------------------------------------


def _site_with_encrypted_key(tmp_path: Path) -> tuple[Path, Path]:
    tls = make_certs(tmp_path / "tls")
    locked = tmp_path / "tls" / "gw-locked.key"
    _openssl(tmp_path, "pkey", "-in", str(tls.server_key), "-aes256", "-passout", "pass:estate123",
             "-out", str(locked))
    return _https_site(tmp_path, tls.server_cert, locked), locked


def _on_a_terminal(args: list[str], wait_s: float) -> tuple[int | None, str]:
    """Run `args` as an installer does in an ssh session: on a terminal (a pty that is the
    process's controlling terminal). Its exit status (None: still running after wait_s) and screen."""
    master, slave = os.openpty()

    def own_terminal() -> None:  # after setsid (start_new_session): the pty becomes its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        args, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=own_terminal
    )
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + wait_s
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    screen += os.read(master, 4096)
                except OSError:  # EIO: the process has closed the terminal, and is ending
                    break
        try:
            status: int | None = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            status = None
        if status is None:
            proc.kill()
        else:
            while select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
        proc.wait(timeout=10)
        return status, screen.decode(errors="replace")
    finally:
        os.close(master)


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_key_with_a_pass_phrase_is_not_asked_for_on_a_terminal(tmp_path: Path, command: str) -> None:
    """An installer runs `gateway check-config` (or `gateway run`) in an ssh session on a site whose
    tls_key_file has a pass phrase: it printed "Enter PEM pass phrase:" and waited for ever (the
    service could never type one). It should exit 78 at once, saying so and how to remove it."""
    config, locked = _site_with_encrypted_key(tmp_path)
    args = ["check-config", str(config)] if command == "check-config" else ["run", "-c", str(config)]
    status, screen = _on_a_terminal([sys.executable, "-m", "gateway.cli", *args], 20)
    assert status is not None, f"{command} still waiting after 20 s; the screen says: {screen!r}"
    assert "Enter PEM pass phrase" not in screen, screen
    assert status == EX_CONFIG and "pass phrase" in screen, screen
    assert f"openssl pkey -in {locked} -out {locked}.nopass" in screen, screen


def test_the_https_server_itself_never_asks_for_a_pass_phrase(tmp_path: Path) -> None:
    """uvicorn gives OpenSSL no pass phrase callback unless it has a password: a key given a pass
    phrase after the start's check would have the server wait on the terminal too."""
    config, _ = _site_with_encrypted_key(tmp_path)
    script = (
        "import sys, uvicorn; from gateway.config import load_config; "
        "from gateway.runtime.serve import _tls_options; "
        f"http = load_config({str(config)!r}).http; "
        "uvicorn.Config(lambda *a: None, **_tls_options(http)).load()"
    )
    status, screen = _on_a_terminal([sys.executable, "-c", script], 20)
    assert status is not None and status != 0, f"exit {status}: {screen!r}"
    assert "Enter PEM pass phrase" not in screen and "SSLError" in screen, screen


def test_a_key_with_a_pass_phrase_is_named_as_such_when_the_service_starts(tmp_path: Path) -> None:
    """Under systemd (no terminal, stdin /dev/null) the start stopped with exit 78 but said only
    "cannot load ... : Invalid argument" and a fix about file owners and modes."""
    config, _ = _site_with_encrypted_key(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal, as under systemd
    )
    said = done.stderr[done.stderr.find("error:"):][-1500:]
    assert done.returncode == EX_CONFIG, done.stderr[-1500:]
    assert "pass phrase" in said and "chmod" in said and "640" not in said, said
    assert "Enter PEM pass phrase" not in done.stderr, done.stderr[-1500:]


# DER files, a chain in the wrong order, a key of another certificate ------------------------------


def test_a_der_certificate_is_named_as_der(tmp_path: Path) -> None:
    """The property company's CA hands out gw.cer in DER (binary) form. check-config refused it with
    "[SSL] PEM lib (_ssl.c:3905)", naming both files, and a fix about owners and modes."""
    tls = make_certs(tmp_path / "tls")
    der = tmp_path / "tls" / "gw.cer"
    _openssl(tmp_path, "x509", "-in", str(tls.server_cert), "-outform", "der", "-out", str(der))
    done = _check(_https_site(tmp_path, der, tls.server_key))
    said = done.stdout + done.stderr
    assert done.returncode == EX_CONFIG, said
    assert f"tls_cert_file {der} is not PEM (DER?)" in said, said
    assert f"openssl x509 -inform der -in {der} -out {der}.pem" in said, said
    assert "tls_key_file" not in done.stderr, said  # the certificate alone is at fault


def test_a_der_key_is_named_as_der(tmp_path: Path) -> None:
    tls = make_certs(tmp_path / "tls")
    der = tmp_path / "tls" / "gw.der.key"
    _openssl(tmp_path, "pkey", "-in", str(tls.server_key), "-outform", "der", "-out", str(der))
    done = _check(_https_site(tmp_path, tls.server_cert, der))
    said = done.stdout + done.stderr
    assert done.returncode == EX_CONFIG, said
    assert f"tls_key_file {der} is not PEM (DER?)" in said, said
    assert f"openssl pkey -inform der -in {der} -out {der}.pem" in said and "chmod 600" in said, said


def test_a_chain_file_with_the_intermediate_first_says_what_to_reorder(tmp_path: Path) -> None:
    """The installer pastes the intermediate certificate first and the gateway's own after it in
    tls_cert_file: check-config refused it with "[X509: KEY_VALUES_MISMATCH]" and a fix to
    chown/chmod the files (both were read)."""
    out = tmp_path / "tls"
    out.mkdir()
    (out / "ext.cnf").write_text(
        "[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "[leaf]\nsubjectAltName=IP:127.0.0.1\n"
    )
    _openssl(out, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "5", "-subj", "/CN=estate-root",
             "-keyout", "root.key", "-out", "root.crt")
    _openssl(out, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=estate-intermediate",
             "-keyout", "inter.key", "-out", "inter.csr")
    _openssl(out, "x509", "-req", "-in", "inter.csr", "-CA", "root.crt", "-CAkey", "root.key",
             "-CAcreateserial", "-days", "5", "-extfile", "ext.cnf", "-extensions", "ca", "-out", "inter.crt")
    _openssl(out, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "gw.key",
             "-out", "gw.csr")
    _openssl(out, "x509", "-req", "-in", "gw.csr", "-CA", "inter.crt", "-CAkey", "inter.key",
             "-CAcreateserial", "-days", "5", "-extfile", "ext.cnf", "-extensions", "leaf", "-out", "gw.crt")
    chain = out / "chain.pem"
    chain.write_text((out / "inter.crt").read_text() + (out / "gw.crt").read_text())
    done = _check(_https_site(tmp_path, chain, out / "gw.key"))
    said = done.stdout + done.stderr
    assert done.returncode == EX_CONFIG, said
    assert "chmod" not in said and "first" in said, said
    assert "own certificate first, then the intermediate" in said, said
    chain.write_text((out / "gw.crt").read_text() + (out / "inter.crt").read_text())
    assert _check(chain.parent.parent / "site.toml").returncode == 0


def test_a_key_of_another_certificate_is_named_as_such(tmp_path: Path) -> None:
    tls = make_certs(tmp_path / "tls")
    done = _check(_https_site(tmp_path, tls.server_cert, tls.client_key))
    said = done.stdout + done.stderr
    assert done.returncode == EX_CONFIG, said
    assert "is not the private key of" in said and "chmod" not in said, said


# Files the unit's sandbox hides -------------------------------------------------------------------


def _can_unshare_mounts() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0


@pytest.mark.skipif(not _can_unshare_mounts(), reason="needs a mount namespace (unshare -m, as root)")
def test_tls_files_in_home_hidden_by_protect_home_are_named_as_such(tmp_path: Path) -> None:
    """The installer copies gw.crt and gw.key to /home/pi/tls; check-config said "ok". The shipped
    unit has ProtectHome=yes, so the service sees an empty /home: the start stopped saying "cannot
    load ... No such file or directory" (the file is there) with a fix to chown/chmod it."""
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data", port=free_port()).replace(
            "[http]\n",
            '[http]\ntls_cert_file = "/home/pi/tls/gw.crt"\ntls_key_file = "/home/pi/tls/gw.key"\n',
            1,
        ),
        encoding="utf-8",
    )
    # In a private mount namespace: a /home of our own, the files made in it, check-config run;
    # then what ProtectHome=yes does (an empty, inaccessible /home) and the start.
    script = (
        "set -e; mount -t tmpfs tmpfs /home; mkdir -p /home/pi/tls; cd /home/pi/tls; "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout gw.key -out gw.crt 2>/dev/null; chmod 600 gw.key; cd /; "
        f"{sys.executable} -m gateway.cli check-config {config} 1>&2; "
        "mount -t tmpfs -o mode=000 tmpfs /home; "
        f"exec {sys.executable} -m gateway.cli run -c {config}"
    )
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO), "NOTIFY_SOCKET": str(tmp_path / "nobody.sock"),
             "INVOCATION_ID": "0" * 32},
    )
    checked = proc.stderr[: proc.stderr.find("error:")]
    assert ": ok (" in checked, proc.stderr  # check-config, outside the sandbox
    assert "http.tls_cert_file" in checked and "ProtectHome" in checked, checked
    assert "/etc/estate-gateway" in checked, checked
    said = proc.stderr[proc.stderr.find("error:"):]
    assert proc.returncode == EX_CONFIG, proc.stderr[-1500:]
    assert "ProtectHome" in said and "/etc/estate-gateway" in said, said


def test_the_folders_said_hidden_are_those_the_shipped_unit_hides() -> None:
    """What check-config says the service cannot read follows the unit's ProtectHome and PrivateTmp."""
    unit = _service()
    hidden = set()
    if unit.get("ProtectHome", ["no"])[-1] in ("yes", "true", "read-only", "tmpfs"):
        hidden |= {"/home", "/root", "/run/user"}
    if unit.get("PrivateTmp", ["no"])[-1] in ("yes", "true"):
        hidden |= {"/tmp", "/var/tmp"}
    assert set(HIDDEN_FROM_SERVICE) == hidden


def test_files_under_tmp_are_warned_of_as_hidden_by_private_tmp(tmp_path: Path) -> None:
    """The unit's PrivateTmp=yes gives the service a /tmp of its own: a certificate, or an [mqtt] CA,
    copied to /tmp is not there for it (tmp_path is under /tmp)."""
    assert str(tmp_path).startswith("/tmp/")
    tls = make_certs(tmp_path / "tls")
    done = _check(_https_site(tmp_path, tls.server_cert, tls.server_key,
                              f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nca_file = "{tls.ca}"\n'))
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    for name in ("http.tls_cert_file", "http.tls_key_file", "mqtt.ca_file"):
        assert f"{name}: " in said and "PrivateTmp" in said, said
    assert "sudo install -D -o estate-gateway -g estate-gateway -m 600" in said, said


# A key open to everyone ---------------------------------------------------------------------------


def test_a_tls_key_readable_by_everyone_on_the_box_is_warned(tmp_path: Path) -> None:
    """docs/config.md: tls_key_file is the private key "readable by the gateway only". A key copied
    over as -rw-r--r-- got "ok" from check-config, though the command key is warned of so."""
    tls = make_certs(tmp_path / "tls")
    tls.server_key.chmod(0o644)
    done = _check(_https_site(tmp_path, tls.server_cert, tls.server_key))
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "http.tls_key_file" in said and "-rw-r--r--" in said, said
    key = tls.server_key
    assert f"sudo chown estate-gateway:estate-gateway {key} && sudo chmod 600 {key}" in said, said
    tls.server_key.chmod(0o600)
    assert "-rw-r--r--" not in _check(tmp_path / "site.toml").stdout


# A certificate expired, or about to --------------------------------------------------------------


def _certificate_valid(out: Path, start: str, end: str) -> tuple[Path, Path]:
    """A server certificate signed by a test CA, valid from `start` to `end` (YYYYMMDDHHMMSSZ)."""
    out.mkdir(parents=True)
    (out / "index.txt").write_text("")
    (out / "serial").write_text("01\n")
    (out / "ca.cnf").write_text(
        "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
        "default_md = sha256\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n"
        "[any]\ncommonName = supplied\n"
    )
    _openssl(out, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=estate-ca",
             "-keyout", "ca.key", "-out", "ca.crt")
    _openssl(out, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "gw.key", "-out", "gw.csr")
    _openssl(out, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key",
             "-in", "gw.csr", "-out", "gw.crt", "-startdate", start, "-enddate", end, "-notext")
    return out / "gw.crt", out / "gw.key"


def test_an_expired_https_certificate_is_not_called_ok(tmp_path: Path) -> None:
    """The certificate expired on 2025-02-01: check-config printed "ok" and exit 0, and the gateway
    started without a word; the booth tablet's Chrome then refuses every guard page."""
    cert, key = _certificate_valid(tmp_path / "tls", "20250101000000Z", "20250201000000Z")
    done = _check(_https_site(tmp_path, cert, key))
    said = done.stdout + done.stderr
    assert "expired on 2025-02-01" in said and "http.tls_cert_file" in said, f"exit {done.returncode}: {said}"


def test_an_https_certificate_ending_within_30_days_is_warned(tmp_path: Path) -> None:
    tls = make_certs(tmp_path / "tls")  # valid for two days
    done = _check(_https_site(tmp_path, tls.server_cert, tls.server_key))
    said = done.stdout + done.stderr
    assert done.returncode == 0 and "http.tls_cert_file" in said and "ends on" in said, said


def test_the_start_says_once_that_the_https_certificate_has_expired(tmp_path: Path) -> None:
    """The gateway starts with it (the guard's own browser may be told to go on), but says so."""
    cert, key = _certificate_valid(tmp_path / "tls", "20250101000000Z", "20250201000000Z")
    service = [sys.executable, "-m", "gateway.cli", "run", "-c", str(_https_site(tmp_path, cert, key))]
    with subprocess.Popen(
        service, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        too_long = threading.Timer(30, proc.kill)  # a start that never gets ready ends the reading
        too_long.start()
        said = ""
        while "ready in" not in said and (line := proc.stdout.readline()):
            said += line
        too_long.cancel()
        proc.terminate()
        said += proc.stdout.read()
    assert "ready in" in said, said[-1500:]
    assert said.count("expired on 2025-02-01") == 1, said[-1500:]


def test_an_empty_certificate_file_is_named_as_empty(tmp_path: Path) -> None:
    """A copy that failed half-way: "[SSL] PEM lib" named both files; now the empty one alone."""
    tls = make_certs(tmp_path / "tls")
    empty = tmp_path / "tls" / "gw.crt"
    empty.write_text("")
    done = _check(_https_site(tmp_path, empty, tls.server_key))
    assert done.returncode == EX_CONFIG and f"tls_cert_file {empty} is empty" in done.stderr, done.stderr
