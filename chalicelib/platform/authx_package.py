"""The authX Lambda's zip, built on its own from `authx/` (DESIGN §5).

Layout: `authx/*.py` under the `authx/` folder (handler `authx.handler.lambda_handler`) and
its dependencies (`authx/requirements.txt`) at the root, installed as Linux wheels for the
Lambda runtime, whatever machine builds it. The zip is reproducible — sorted entries, fixed
timestamps and modes, no bytecode — so the same sources give the same CodeSha256 and setup
does not update the function when nothing changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .config import PROJECT_ROOT

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
RUNTIME = f"python{PYTHON_VERSION}"
HANDLER = "authx.handler.lambda_handler"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def pip_command(requirements: Path, target: Path) -> list[str]:
    """pip, asked for Linux wheels only (no source builds) for the Lambda's Python."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]


def dependencies_dir(source: Path, cache: Path) -> Path:
    """The dependencies installed once per requirements file content, under `cache`."""
    requirements = source / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes() + PLATFORM.encode()).hexdigest()[:16]
    target = cache / f"authx-deps-{PYTHON_VERSION}-{digest}"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(pip_command(requirements, target), check=True)  # noqa: S603
        (target / ".complete").write_text("")
    return target


def _files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or SKIPPED_PARTS & set(relative.parts):
            continue
        if path.name.endswith(SKIPPED_SUFFIXES) or path.name == ".complete":
            continue
        found.append(relative)
    return sorted(found)


def _add(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    executable = os.access(path, os.X_OK)
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())


def build(source: Path = PROJECT_ROOT / "authx", dependencies: Path | None = None) -> bytes:
    """The zip's bytes: `source` as `authx/`, plus everything in `dependencies` at the root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for relative in _files(source):
            if relative.name == "requirements.txt":
                continue
            _add(archive, source / relative, f"authx/{relative.as_posix()}")
        if dependencies is not None:
            for relative in _files(dependencies):
                if relative.parts[0] == "authx":
                    raise ValueError(f"a dependency would overwrite authx/: {relative}")
                _add(archive, dependencies / relative, relative.as_posix())
    return buffer.getvalue()
