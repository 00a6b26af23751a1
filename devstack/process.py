"""`devstack.server()`: moto's server with devstack's plugins, run as a child process.

The child sets, for itself only, what a server needs so that its Step Functions tasks and its
in-process Lambdas call back into it: `MOTO_PORT`, `AWS_ENDPOINT_URL`, and no host-prefix
injection (MWAA's `api.`/`env.` prefixes cannot be put in front of 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devstack.lambdas import PROJECT_ROOT

_READY_TIMEOUT = 60.0


class Server:
    """A running devstack server; use as a context manager or call `.stop()`."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, log_path: Path, settings_path: Path
    ):
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.settings_path = settings_path

    def set_stage_settings(self, settings: dict[str, str]) -> None:
        """Settings the server's in-process Lambdas get on top of the stage's (e.g. the ARNs of
        a landscape made after the server started)."""
        temporary = self.settings_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(settings))
        temporary.replace(self.settings_path)

    def client_environment(self) -> dict[str, str]:
        """Variables that point an AWS SDK or `chalice local` at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in (self.log_path, self.settings_path):
            with contextlib.suppress(OSError):
                path.unlink()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server(
    port: int = 0,
    project_dir: str | os.PathLike[str] = PROJECT_ROOT,
    stage: str = "local",
    env: dict[str, str] | None = None,
) -> Server:
    """Start the embedded AWS on 127.0.0.1:`port` (0 = any free port) and wait until it answers."""
    port = port or free_port()
    child_env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "MOTO_PORT")
    }
    child_env.update(env or {})
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), child_env.get("PYTHONPATH")])
    )
    log = tempfile.NamedTemporaryFile(prefix="devstack-", suffix=".log", delete=False)  # noqa: SIM115
    settings_path = Path(log.name).with_suffix(".settings.json")
    command = [
        sys.executable,
        "-m",
        "devstack.server",
        "--port",
        str(port),
        "--project",
        str(Path(project_dir).resolve()),
        "--stage",
        stage,
        "--settings-file",
        str(settings_path),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=log, stderr=subprocess.STDOUT, env=child_env, cwd=PROJECT_ROOT
    )
    log.close()
    handle = Server(process, port, Path(log.name), settings_path)
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = handle.log()
            handle.stop()
            raise RuntimeError(f"devstack server exited with {process.returncode}:\n{output}")
        if "devstack ready" in handle.log():
            return handle
        time.sleep(0.05)
    output = handle.log()
    handle.stop()
    raise RuntimeError(f"devstack server did not start within {_READY_TIMEOUT:.0f}s:\n{output}")
