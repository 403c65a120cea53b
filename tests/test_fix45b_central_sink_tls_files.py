"""`gateway central-sink` started with a --ca-file, --cert-file or --key-file it cannot use: an error
line naming the option, its file and what to do (exit 78), never a traceback or a raw SSLError."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.sync.sink import check_tls_files
from tests.sync.sync_helpers import Tls, make_certs


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_certs(tmp_path_factory.mktemp("certs"))


def _sink(tmp_path: Path, *tls_args: str) -> int:
    db = tmp_path / "central.db"
    argv = ["central-sink", "--db", str(db), "--port", "18999", *tls_args, "--stop-after", "1"]
    try:
        rc = main(argv)
    except Exception as exc:  # what the operator sees is Python's traceback
        pytest.fail(f"`gateway {' '.join(argv)}` ended in a traceback: {exc!r}")
    assert not db.exists(), "nothing is made before the setup is right"
    return rc


def test_central_sink_with_a_missing_ca_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The centre's operator starts `gateway central-sink --port 8883 --ca-file ca.crt` with the
    CA certificate not copied yet (or a typo): the command died with Python's FileNotFoundError
    traceback from paho's tls_set, naming no file and no option, as --password-file did before.
    It exits 78 naming --ca-file and its file, and what to do."""
    missing = tmp_path / "ca.crt"
    rc = _sink(tmp_path, "--ca-file", str(missing))
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"--ca-file {missing}" in err, (rc, err)
    assert "No such file" in err and "fix:" in err, err


def test_central_sink_with_a_ca_file_that_is_no_certificate_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls: Tls
) -> None:
    """A CA file that is no certificate (the CA's key copied in its place) ended in a raw
    ssl.SSLError "[X509: NO_CERTIFICATE_OR_CRL_FOUND]" traceback."""
    for wrong in (tls.server_key, tmp_path):  # a key, a folder
        rc = _sink(tmp_path, "--ca-file", str(wrong))
        err = capsys.readouterr().err
        assert rc == EX_CONFIG and f"--ca-file {wrong}" in err and "fix:" in err, (rc, err)


@pytest.mark.parametrize(
    ("option", "wrong", "said"),
    [
        ("--cert-file", "missing", "No such file"),
        ("--cert-file", "junk", "no certificate in it"),
        ("--key-file", "missing", "No such file"),
        ("--key-file", "junk", "no private key in it"),
        ("--key-file", "another key", "not the private key of --cert-file"),
        ("--key-file", "encrypted", "encrypted"),
    ],
)
def test_central_sink_with_a_client_certificate_or_key_it_cannot_use_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls: Tls, option: str, wrong: str, said: str
) -> None:
    """A client certificate or key missing, no PEM, or not the pair: a raw FileNotFoundError or
    "[SSL] PEM lib" traceback before. Each names the option and its file."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a PEM file\n")
    encrypted = tmp_path / "encrypted.key"
    encrypting = ["pkey", "-in", str(tls.client_key), "-aes256", "-passout", "pass:x", "-out", str(encrypted)]
    subprocess.run(["openssl", *encrypting], check=True, capture_output=True)
    files = {"missing": tmp_path / "nothere.pem", "junk": junk, "another key": tls.server_key}
    given = {"--cert-file": tls.client_cert, "--key-file": tls.client_key}
    given[option] = files.get(wrong, encrypted)
    pair = ["--cert-file", str(given["--cert-file"]), "--key-file", str(given["--key-file"])]
    rc = _sink(tmp_path, "--ca-file", str(tls.ca), *pair)
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"{option} {given[option]}" in err and said in err, (rc, err)
    assert "fix:" in err, err


@pytest.mark.parametrize("option", ["--cert-file", "--key-file"])
def test_a_client_certificate_without_tls_is_refused_not_left_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls: Tls, option: str
) -> None:
    """--cert-file (or --key-file) without --ca-file was quietly unused: TLS off, and the broker's
    refusal read as a wrong password, retried for ever."""
    rc = _sink(tmp_path, option, str(tls.client_cert if option == "--cert-file" else tls.client_key))
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and option in err and "--ca-file" in err, (rc, err)


def test_a_key_without_its_certificate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls: Tls
) -> None:
    rc = _sink(tmp_path, "--ca-file", str(tls.ca), "--key-file", str(tls.client_key))
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"--key-file {tls.client_key}" in err and "--cert-file" in err, (rc, err)


def test_a_client_certificate_without_its_key_says_to_give_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls: Tls
) -> None:
    """Without --key-file the key is looked for in the certificate's own file."""
    rc = _sink(tmp_path, "--ca-file", str(tls.ca), "--cert-file", str(tls.client_cert))
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"--cert-file {tls.client_cert}" in err and "--key-file" in err, (rc, err)


def test_files_that_load_are_taken(tls: Tls) -> None:
    check_tls_files(tls.ca, None, None)
    check_tls_files(tls.ca, tls.client_cert, tls.client_key)
    check_tls_files(None, None, None)
