"""An evaluator's first hour: README top to bottom, the examples as written, the fixes as printed."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from gateway.sync.command_key import SERVICE_USER
from tests.conftest import site_toml

REPO = Path(__file__).resolve().parent.parent
GATEWAY = REPO / ".venv" / "bin" / "gateway"


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_key_fix_printed_by_check_config_works_on_a_fresh_box(tmp_path: Path) -> None:
    """README install: check-config runs before the service's first start, so the data directory
    (/var/lib/estate-gateway, made by systemd's StateDirectory at the first start; `useradd
    --system` makes no home) does not exist yet. check-config warns "no command key ... make one:
    head -c 32 /dev/urandom | base64 > DIR/command.key; chmod 600 DIR/command.key". The installer
    pastes that and gets "No such file or directory": the printed fix cannot work. It should make
    the folder (or say to), so that pasting it gives a key check-config then accepts."""
    data = tmp_path / "var-lib-estate-gateway"  # not made yet, as on a fresh box
    config = tmp_path / "site.toml"
    config.write_text(site_toml(data) + "\n[mqtt]\nenabled = true\n", encoding="utf-8")
    first = check_config(config)
    assert first.returncode == 0, first.stderr
    said = first.stdout + first.stderr
    found = re.search(r"make one: (.*?); and give the central server", said)
    assert found, said
    fix = found.group(1)
    # The key must be the service's (README: owned by estate-gateway, mode 600), or made by root's
    # shell the service cannot read it. This box has no such user, and maybe no sudo: the test's
    # own user stands in for it, and a stand-in sudo runs the command as that user.
    user, group = _me()
    assert f"-o {SERVICE_USER} -g {SERVICE_USER}" in fix, fix
    here = fix.replace(f"-o {SERVICE_USER} -g {SERVICE_USER}", f"-o {user} -g {group}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text(
        '#!/bin/sh\nwhile [ "$#" -gt 0 ]; do case "$1" in -u) shift 2;; -*) shift;; *) break;; esac; done\n'
        'exec "$@"\n',
        encoding="utf-8",
    )
    (bin_dir / "sudo").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", here], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"the printed fix failed: {fix!r}: {done.stderr.strip()}"
    key = (data / "command.key").stat()
    assert (key.st_uid, key.st_gid, stat.S_IMODE(key.st_mode)) == (os.getuid(), os.getgid(), 0o600)
    again = check_config(config)
    assert "command key" not in again.stdout + again.stderr


def _me() -> tuple[str, str]:
    import grp
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def test_example_estate_patrol_route_uncommented_passes_check_config(tmp_path: Path) -> None:
    """config/example-estate.toml offers a guard patrol route to uncomment ("its id is listed
    here") and, further down, defines its own checkpoint reader `south-gate-checkpoint`. Uncommented
    as written, check-config refuses the file (3 problems: 'cp-east-gate', 'cp-garage-b1',
    'cp-building-9': no reader has this id). The example's own route should name the example's own
    checkpoint(s), so that uncommenting it gives a file check-config accepts."""
    text = (REPO / "config" / "example-estate.toml").read_text(encoding="utf-8")
    block = re.search(r"^# \[\[patrol\.routes\]\]\n(?:^# .*\n)+", text, re.M)
    assert block, "the example has no commented patrol route any more"
    uncommented = "\n".join(
        line[2:] if not line.startswith("#  ") else line for line in block.group(0).splitlines()
    )
    site = text.replace(block.group(0), uncommented + "\n")
    site = site.replace('data_dir = "/var/lib/estate-gateway"', f'data_dir = "{tmp_path / "data"}"')
    path = tmp_path / "site.toml"
    path.write_text(site, encoding="utf-8")
    done = check_config(path)
    assert done.returncode == 0, done.stderr


def test_demo_hint_to_add_an_account_runs_in_the_checkout(tmp_path: Path) -> None:
    """README: run `./scripts/demo` (it runs .venv/bin/gateway; nothing puts `gateway` on the PATH).
    The admin password is shown once; every later start says instead "log in with the account made
    when the demo first started, or add one: gateway user add -c DIR/demo.toml --admin NAME". In the
    checkout's shell that command is "gateway: command not found". The hint should name a command
    that runs there (the running gateway's own path, .venv/bin/gateway)."""
    data = tmp_path / "demo"
    port = 18000 + os.getpid() % 1000
    # The checkout's shell, the venv not activated: the demo as scripts/demo runs it there, and the
    # hint run there. With the venv's bin on the tests' own PATH (pytest run from an activated venv)
    # the demo rightly said the bare `gateway`, which the stripped shell then could not find.
    shell_path = ":".join(p for p in os.environ["PATH"].split(":") if ".venv" not in p)
    checkout_shell = {**os.environ, "PATH": shell_path or "/usr/bin:/bin"}

    def demo() -> str:
        done = subprocess.run(
            [str(GATEWAY), "demo", "--data-dir", str(data), "--port", str(port), "--stop-after", "1"],
            cwd=REPO,
            env=checkout_shell,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-800:]
        return done.stdout + done.stderr

    demo()
    said = demo()
    found = re.search(r"or add one: (\S.*--admin NAME)", said)
    assert found, said[-1500:]
    command = found.group(1).replace("NAME", "wang") + " --password-stdin"
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        input="long-enough-password\n",
        env=checkout_shell,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{command!r}: {done.stderr.strip()}"


def test_patrol_checkpoint_fix_names_only_readers_a_route_may_list(tmp_path: Path) -> None:
    """A route naming a checkpoint that does not exist is refused with "fix: known readers:
    ['south-door-reader', 'south-door-qr', 'south-gate-checkpoint']" (the example estate). The
    installer takes the first one offered and is refused again: "this reader opens a door; its reads
    are access requests, never patrol taps". The fix should offer the patrol readers only (here
    'south-gate-checkpoint'), so that taking one of them gives a file check-config accepts."""
    text = (REPO / "config" / "example-estate.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "/var/lib/estate-gateway"', f'data_dir = "{tmp_path / "data"}"')
    route = '\n[[patrol.routes]]\nid = "night"\ncheckpoints = ["{}"]\nhours = "22:00-06:00"\n'
    path = tmp_path / "site.toml"
    path.write_text(text + route.format("cp-east-gate"), encoding="utf-8")
    refused = check_config(path)
    assert refused.returncode == 78
    offered = re.search(r"fix: known readers: \['([^']+)'", refused.stderr)
    assert offered, refused.stderr
    path.write_text(text + route.format(offered.group(1)), encoding="utf-8")
    done = check_config(path)
    assert done.returncode == 0, f"took the fix's {offered.group(1)!r}: {done.stderr}"


def test_scripts_setup_repairs_a_venv_left_without_pip(tmp_path: Path) -> None:
    """README: `./scripts/demo` works on a fresh Debian 12. There `python3 -m venv` fails until
    python3-venv is installed (which neither scripts/setup nor scripts/system-deps installs), and
    leaves .venv/bin/python without pip. After `apt install python3-venv`, the evaluator runs
    ./scripts/demo again: scripts/setup sees .venv/bin/python, skips the venv, and dies with
    ".venv/bin/pip: No such file or directory" (exit 127) until .venv is deleted by hand. It should
    notice the venv has no pip and make it again."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "setup").write_bytes((REPO / "scripts" / "setup").read_bytes())
    (checkout / "scripts" / "setup").chmod(0o755)
    (checkout / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n', encoding="utf-8")
    # What Debian's python3 without python3-venv leaves behind: the venv, without pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True)
    done = subprocess.run(
        [str(checkout / "scripts" / "setup")],
        cwd=checkout,
        env={**os.environ, "PIP_NO_INDEX": "1", "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ".venv/bin/pip: No such file or directory" not in done.stderr, done.stderr
    assert (checkout / ".venv" / "bin" / "pip").exists()


def _stops_soon(argv: list[str], ready: str, tmp_path: Path, sig: int) -> None:
    import signal
    import time

    log = (tmp_path / "out.log").open("w+")
    proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while ready not in (tmp_path / "out.log").read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "out.log").read_text()
            time.sleep(0.2)
        time.sleep(1)
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"still running 20 s after {signal.Signals(sig).name}: "
                + (tmp_path / "out.log").read_text()[-600:]
            ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_demo_with_stop_after_stops_at_ctrl_c(tmp_path: Path) -> None:
    """README: scripts/demo takes `--stop-after 60`. The evaluator runs `./scripts/demo --stop-after
    600`, has seen enough after a minute and presses Ctrl-C: the log says "gateway stopped", but the
    process does not exit (nor at a second Ctrl-C or a kill) until the 600 s are up: the
    --stop-after timer is a non-daemon threading.Timer nobody cancels. It should exit at once."""
    import signal

    port = 19000 + os.getpid() % 1000
    argv = [str(GATEWAY), "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)]
    _stops_soon([*argv, "--stop-after", "300"], "ready in", tmp_path, signal.SIGINT)


def test_central_sink_with_stop_after_stops_at_sigterm(tmp_path: Path) -> None:
    """docs/mqtt.md: the reference consumer "runs until SIGTERM, Ctrl-C or --stop-after". Given
    --stop-after 300 and stopped by SIGTERM, it logs "central-sink stopped" and then hangs for the
    rest of the 300 s (the same uncancelled non-daemon Timer). It should exit at once."""
    import signal

    argv = [
        str(GATEWAY),
        "central-sink",
        "--port",
        "1",
        "--db",
        str(tmp_path / "central.db"),
        "--stop-after",
        "300",
    ]
    _stops_soon(argv, "central-sink writing", tmp_path, signal.SIGTERM)
