"""In-process Lambda: `lambda:invoke` of a Chalice app's functions, dispatched by name.

Functions registered in moto's Lambda whose handler is code of the project (authX's
`authx.handler.lambda_handler`, made by platform setup) run in process too, with the environment
variables they were configured with.

A Chalice app deployed to stage S names each `@app.lambda_function(name=N)` as
`<app_name>-S-N`. When moto's Lambda backend is asked to invoke a function of that name (by
name, partial or full ARN), devstack calls the Chalice handler in this process instead (no
Docker), with the function's stage environment variables applied (Chalice's own config
merge), a Lambda-like context, and Lambda's error payload when the handler raises.

A function's settings are a layer of `os.environ` seen only by the thread that runs it (see
`LayeredEnviron`): other threads — a test polling through boto3, which reads `os.environ` on
every request — never see them, and nothing mutates the process environment under them.
Invocations still run one at a time (moto is not thread-safe everywhere). Code that replaces
`os.environ` itself while executions run (e.g. `chalice.test.Client` around each request) must
hold `exclusive_environment()`: in AWS the API and each Lambda are processes of their own.
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
from collections.abc import Callable, Iterator, MutableMapping
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
        settings_file: str | os.PathLike[str] | None = None,
    ):
        self.project_dir = Path(project_dir).resolve()
        self.stage = stage
        self.extra_env = dict(extra_env or {})
        # Settings known only once AWS resources exist (a listener ARN…), read at every call.
        self.settings_file = Path(settings_file) if settings_file else None
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
        return {**config.environment_variables, **self.runtime_settings(), **self.extra_env}

    def runtime_settings(self) -> dict[str, str]:
        if self.settings_file is None or not self.settings_file.exists():
            return {}
        return {str(k): str(v) for k, v in json.loads(self.settings_file.read_text()).items()}

    def handler_of(self, handler_string: str) -> Callable[[Any, Any], Any] | None:
        """A handler (`package.module.function`) of code in this project, e.g. authX's."""
        module_name, _, attribute = (handler_string or "").rpartition(".")
        top = module_name.split(".")[0]
        if not module_name or not (self.project_dir / top / "__init__.py").is_file():
            return None
        if str(self.project_dir) not in sys.path:
            sys.path.insert(0, str(self.project_dir))
        return getattr(importlib.import_module(module_name), attribute, None)


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
        """Run a Chalice function; returns (response payload, whether the function errored)."""
        handler = getattr(project.module, function.handler_string.split(".")[-1])
        name = project.deployed_name(function.name)
        with _CALL_LOCK:
            environment = project.environment(function.name)
        return run_handler(handler, payload, name, arn, environment)

    def handler_for(self, handler_string: str) -> tuple[ChaliceProject, Any] | None:
        """A deployed function's handler that lives in one of the projects (run in process)."""
        with _CALL_LOCK:
            for project in reversed(self._projects):
                handler = project.handler_of(handler_string)
                if handler is not None:
                    return project, handler
        return None


class LayeredEnviron(MutableMapping[str, str]):
    """`os.environ` with a per-thread layer on top: a thread running a function sees the
    function's settings over the process environment; every other thread sees the process
    environment alone."""

    def __init__(self, base: MutableMapping[str, str]):
        self.base = base
        self._local = threading.local()

    def _layer(self) -> dict[str, str] | None:
        return getattr(self._local, "layer", None)

    @contextmanager
    def layered(self, values: dict[str, str]) -> Iterator[None]:
        previous = self._layer()
        self._local.layer = {**(previous or {}), **values}
        try:
            yield
        finally:
            self._local.layer = previous

    def __getitem__(self, key: str) -> str:
        layer = self._layer()
        if layer is not None and key in layer:
            return layer[key]
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        layer = self._layer()
        if layer is not None:
            layer[key] = value
        else:
            self.base[key] = value

    def __delitem__(self, key: str) -> None:
        layer = self._layer()
        if layer is not None and key in layer:
            del layer[key]
        else:
            del self.base[key]

    def __iter__(self) -> Iterator[str]:
        layer = self._layer() or {}
        keys = list(self.base.keys())
        return iter(keys + [key for key in layer if key not in self.base])

    def __len__(self) -> int:
        return len(set(self.base.keys()) | set(self._layer() or {}))

    def copy(self) -> dict[str, str]:
        return dict(self.items())


def layered_environ() -> LayeredEnviron:
    """Put the layered view in place of `os.environ` (once per process)."""
    if not isinstance(os.environ, LayeredEnviron):
        os.environ = LayeredEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - a view, nothing to clear
    return os.environ  # type: ignore[return-value]


def run_handler(
    handler: Callable[[Any, Any], Any],
    payload: bytes | str | None,
    name: str,
    arn: str,
    environment: dict[str, str],
) -> tuple[bytes, bool]:
    """One invocation of `handler` with `environment`; (response payload, whether it errored)."""
    event = json.loads(payload) if payload else {}
    context = LambdaContext(function_name=name, invoked_function_arn=arn)
    with _CALL_LOCK, _environment(environment):
        dispatcher.invocations.append({"function": name, "request_id": context.aws_request_id})
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
    environ = os.environ
    if not isinstance(environ, LayeredEnviron):
        raise RuntimeError(
            "os.environ was replaced while an in-process Lambda ran: hold "
            "devstack.exclusive_environment() around code that swaps it (e.g. chalice.test.Client)"
        )
    with environ.layered(values):
        yield


dispatcher = Dispatcher()
