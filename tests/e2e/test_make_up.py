"""`make up` (scripts/up.py): the whole local stack starts, prints where to sign in, answers
there (the login URL sends the browser to the dev IdP), and Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devstack.process import free_port

ROOT = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_make_up_serves_the_sign_in_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    front, idp = free_port(), free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, "scripts/up.py", "--port", str(front), "--idp-port", str(idp)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would give it
            env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
        )
    try:
        deadline = time.monotonic() + 180
        while "Ctrl-C stops everything" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.5)
        printed = log.read_text()
        url = re.search(r"sign in:\s+(\S+)", printed)
        assert url is not None
        assert url.group(1) == (
            f"http://analytics.airflow.localhost:{front}/aws_mwaa/aws-console-sso"
        )
        answer = requests.get(
            f"http://127.0.0.1:{front}/aws_mwaa/aws-console-sso",
            headers={"Host": f"analytics.airflow.localhost:{front}"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(f"http://idp.localhost:{idp}/authorize?")
        group = os.getpgid(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        returned = process.wait(timeout=60)
    assert returned == 0, log.read_text(errors="replace")
    time.sleep(1)
    with pytest.raises(ProcessLookupError):  # no process is left in its group
        os.killpg(group, 0)
    assert not listening(front) and not listening(idp)
