"""devstack: the embedded AWS of mwaa-gate (DESIGN §6). Never imported by product code.

- `devstack.aws()`: like moto's `mock_aws` (context manager and decorator), plus the MWAA
  backend, Step Functions that really execute their ASL, and `lambda:invoke` dispatched in
  process to the Chalice app's `@app.lambda_function` handlers.
- `devstack.server(port)`: moto's threaded server with the same plugins, in a child process
  (so that its endpoint settings never leak into the caller); `.url`, `.stop()`.

`DEVSTACK_MWAA_CREATE_SECONDS` (default 0) sets how long a created environment stays
`CREATING`; `DEVSTACK_MWAA_UPDATE_SECONDS` and `DEVSTACK_MWAA_DELETE_SECONDS` likewise.
"""

from __future__ import annotations

import os
from contextlib import ContextDecorator
from pathlib import Path
from typing import Any

from devstack.lambdas import (
    PROJECT_ROOT,
    ChaliceProject,
    dispatcher,
    exclusive_environment,
    layered_environ,
)
from devstack.process import Server, server

__all__ = ["PROJECT_ROOT", "Server", "aws", "exclusive_environment", "mock_config", "server"]


def mock_config(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """moto settings devstack runs with: executing state machines, no Docker."""
    config: dict[str, Any] = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
        "batch": {"use_docker": False},
    }
    for section, values in (extra or {}).items():
        config[section] = {**config.get(section, {}), **values}
    return config


class aws(ContextDecorator):
    """In-process embedded AWS; `with devstack.aws():` or `@devstack.aws()`."""

    def __init__(
        self,
        project_dir: str | os.PathLike[str] = PROJECT_ROOT,
        stage: str = "local",
        config: dict[str, Any] | None = None,
    ):
        self.project = ChaliceProject(Path(project_dir), stage)
        self._config = mock_config(config)
        self._mock: Any = None

    def __enter__(self) -> aws:
        if os.environ.get("AWS_ENDPOINT_URL"):
            raise RuntimeError(
                "AWS_ENDPOINT_URL is set: moto cannot intercept in-process calls. Unset it, "
                "or use devstack.server() and pass its url to your clients."
            )
        from moto import mock_aws

        from devstack import plugins

        plugins.install()
        # Every time, not once: code may have put back an `os.environ` it saved earlier.
        layered_environ()
        dispatcher.add(self.project)
        self._mock = mock_aws(config=self._config)
        try:
            self._mock.start()
        except BaseException:
            dispatcher.remove(self.project)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._mock.stop()
        finally:
            dispatcher.remove(self.project)
