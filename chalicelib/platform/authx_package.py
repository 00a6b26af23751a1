"""The authX Lambda's zip, built on its own from `authx/` (DESIGN §5).

Layout: `authx/*.py` under the `authx/` folder (handler `authx.handler.lambda_handler`) and
its dependencies (`authx/requirements.txt`) at the root, installed as Linux wheels for the
Lambda runtime, whatever machine builds it. Every module ships its bytecode (`bytecode.py`:
unchecked-hash `.pyc`, so a cold start does not compile) and the zip is reproducible — sorted
entries, fixed timestamps and modes — so the same sources give the same CodeSha256 and setup
does not update the function when nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from . import bytecode
from .config import PROJECT_ROOT

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
RUNTIME = f"python{PYTHON_VERSION}"
HANDLER = "authx.handler.lambda_handler"


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
        if path.is_dir() or bytecode.skipped(relative.as_posix()) or path.name == ".complete":
            continue
        found.append(relative)
    return sorted(found)


def _entry(path: Path, name: str) -> tuple[str, bytes, bool]:
    return name, path.read_bytes(), os.access(path, os.X_OK)


def _entries(source: Path, dependencies: Path | None) -> Iterator[tuple[str, bytes, bool]]:
    for relative in _files(source):
        if relative.name == "requirements.txt":
            continue
        yield _entry(source / relative, f"authx/{relative.as_posix()}")
    if dependencies is not None:
        for relative in _files(dependencies):
            if relative.parts[0] == "authx":
                raise ValueError(f"a dependency would overwrite authx/: {relative}")
            yield _entry(dependencies / relative, relative.as_posix())


def build(source: Path = PROJECT_ROOT / "authx", dependencies: Path | None = None) -> bytes:
    """The zip's bytes: `source` as `authx/`, everything in `dependencies` at the root, and
    the bytecode of every module."""
    return bytecode.write_zip(_entries(source, dependencies))
