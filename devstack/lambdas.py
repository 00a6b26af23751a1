"""In-process Lambda: `lambda:invoke` of a Chalice app's functions, dispatched by name.

A Chalice app deployed to stage S names each `@app.lambda_function(name=N)` as
`<app_name>-S-N`. When moto's Lambda backend is asked to invoke a function of that name (by
name, partial or full ARN), devstack calls the Chalice handler in this process instead (no
Docker), with the function's stage environment variables applied (Chalice's own config
merge), a Lambda-like context, and Lambda's error payload when the handler raises.

Invocations run one at a time: the environment variables of a process are global, and this is
what keeps two functions from seeing each other's settings. Code that swaps `os.environ` in the
same process while executions run (e.g. `chalice.test.Client` around each request) must hold
`exclusive_environment()` too: in AWS each of them would be a process of its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_FUNCTION_ARN = re.compile(
    r"^(?:arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$"
)
_CALL_LOCK = threading.RLock()


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = 300.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class ChaliceProject:
    """A Chalice project folder (app.py + .chalice/config.json) deployed to one stage."""

    def __init__(
        self,
        project_dir: str | os.PathLike[str] = PROJECT_ROOT,
        stage: str = "local",
        extra_env: dict[str, str] | None = None,
    ):
        self.project_dir = Path(project_dir).resolve()
        self.stage = stage
        self.extra_env = dict(extra_env or {})
        config_path = self.project_dir / ".chalice" / "config.json"
        self.config_from_disk: dict[str, Any] = json.loads(config_path.read_text())
        self.app_name: str = self.config_from_disk["app_name"]
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        """The app module, imported once under a name unique to this project folder."""
        if self._module is None:
            module_name = "_devstack_app_" + re.sub(r"\W", "_", str(self.project_dir))
            if module_name in sys.modules:
                self._module = sys.modules[module_name]
            else:
                if str(self.project_dir) not in sys.path:
                    sys.path.insert(0, str(self.project_dir))
                spec = importlib.util.spec_from_file_location(
                    module_name, self.project_dir / "app.py"
                )
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
                self._module = module
        return self._module

    def deployed_name(self, function: str) -> str:
        return f"{self.app_name}-{self.stage}-{function}"

    def functions(self) -> dict[str, Any]:
        """Deployed function name → Chalice LambdaFunction."""
        app = self.module.app
        return {self.deployed_name(fn.name): fn for fn in app.pure_lambda_functions}

    def environment(self, function: str) -> dict[str, str]:
        from chalice.config import Config

        config = Config(
            chalice_stage=self.stage,
            function_name=function,
            config_from_disk=self.config_from_disk,
        )
        return {**config.environment_variables, **self.extra_env}


class Dispatcher:
    """The projects whose functions devstack runs in process."""

    def __init__(self) -> None:
        self._projects: list[ChaliceProject] = []
        self.invocations: list[dict[str, Any]] = []

    def add(self, project: ChaliceProject) -> None:
        self._projects.append(project)

    def remove(self, project: ChaliceProject) -> None:
        if project in self._projects:
            self._projects.remove(project)

    def resolve(self, function_name: str) -> tuple[ChaliceProject, Any] | None:
        match = _FUNCTION_ARN.match(function_name or "")
        if match is None:
            return None
        with _CALL_LOCK:  # the first resolution imports the app module: once, in one thread
            for project in reversed(self._projects):
                function = project.functions().get(match.group("name"))
                if function is not None:
                    return project, function
        return None

    def invoke(
        self, project: ChaliceProject, function: Any, payload: bytes | str | None, arn: str
    ) -> tuple[bytes, bool]:
        """Run one invocation; returns (response payload, whether the function errored)."""
        event = json.loads(payload) if payload else {}
        name = project.deployed_name(function.name)
        context = LambdaContext(function_name=name, invoked_function_arn=arn)
        handler: Callable[[Any, Any], Any] = getattr(
            project.module, function.handler_string.split(".")[-1]
        )
        with _CALL_LOCK, _environment(project.environment(function.name)):
            self.invocations.append({"function": name, "request_id": context.aws_request_id})
            try:
                result = handler(event, context)
            except Exception as error:  # a Lambda reports any exception as a function error
                body = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
                return json.dumps(body).encode(), True
        return json.dumps(result).encode(), False


@contextmanager
def exclusive_environment() -> Iterator[None]:
    """Hold the process environment: no in-process Lambda runs (or swaps it) meanwhile."""
    with _CALL_LOCK:
        yield


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


dispatcher = Dispatcher()
