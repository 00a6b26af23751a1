"""Reproducible Lambda zips that ship compiled bytecode, so a cold start does not compile.

Every `.py` in the zip gets its `__pycache__/<name>.cpython-3XX.pyc` beside it, compiled by
the interpreter that builds (the Lambda runtime is chosen from the same version, see
`authx_package.RUNTIME`) with `UNCHECKED_HASH` invalidation: Python loads the bytecode without
comparing timestamps or hashing the source (a zip extracted by Lambda has no meaningful
mtimes) — the source stays in the zip for tracebacks. Code objects name their file by its path
in the zip, not the build machine's. Entries are sorted, with fixed times and modes, so the
same sources give the same bytes (and Lambda's CodeSha256) on any machine.

Compiling happens in a fresh interpreter (`python -I -S`), all files in sorted order: marshal
writes a back-reference flag depending on an object's reference count, so the same source
compiled in a process that has imported other modules (interned the same names) can give
other bytes. A fresh, isolated interpreter gives the same bytes every time.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def pyc_name(source_name: str) -> str:
    """`a/b.py` → `a/__pycache__/b.cpython-311.pyc` (the running interpreter's tag)."""
    return importlib.util.cache_from_source(source_name)


# Runs in the fresh interpreter: argv[1] is a folder with `sources/<name>` and `names.json`;
# writes `compiled/<name>` for each source that compiles.
_WORKER = """
import json, os, py_compile, sys
root = sys.argv[1]
for name in json.load(open(os.path.join(root, "names.json"))):
    target = os.path.join(root, "compiled", name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        py_compile.compile(
            os.path.join(root, "sources", name), cfile=target, dfile=name, doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except (py_compile.PyCompileError, ValueError):
        pass
"""


def compile_sources(sources: Mapping[str, bytes]) -> dict[str, bytes]:
    """`{source name: .pyc bytes}` for every source that compiles (others stay source only)."""
    if not sources:
        return {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        names = sorted(sources)
        for name in names:
            path = root / "sources" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(sources[name])
        (root / "names.json").write_text(json.dumps(names))
        subprocess.run(  # noqa: S603 - this interpreter, isolated, our own worker
            [sys.executable, "-I", "-S", "-c", _WORKER, str(root)], check=True
        )
        compiled = {}
        for name in names:
            path = root / "compiled" / name
            if path.exists():
                compiled[name] = path.read_bytes()
        return compiled


def skipped(name: str) -> bool:
    """Bytecode the zip does not take from elsewhere: it compiles its own."""
    return bool(SKIPPED_PARTS & set(name.split("/"))) or name.endswith(SKIPPED_SUFFIXES)


def _info(name: str, executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(entries: Iterable[tuple[str, bytes, bool]]) -> bytes:
    """A zip of `(name, content, executable)` entries plus the bytecode of each `.py`."""
    files: dict[str, tuple[bytes, bool]] = {}
    for name, content, executable in entries:
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "" in parts or "\\" in name:
            raise ValueError(f"not a relative path inside a zip: {name!r}")
        if skipped(name):
            continue
        if name in files:
            raise ValueError(f"two files for {name} in one zip")
        files[name] = (content, executable)
    sources = {name: content for name, (content, _) in files.items() if name.endswith(".py")}
    for name, compiled in compile_sources(sources).items():
        files[pyc_name(name)] = (compiled, False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            content, executable = files[name]
            archive.writestr(_info(name, executable), content)
    return buffer.getvalue()


def rebuild(zip_bytes: bytes) -> bytes:
    """Another tool's zip (Chalice's) made reproducible, its stale bytecode replaced by ours."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        entries = [
            (info.filename, archive.read(info), bool((info.external_attr >> 16) & 0o111))
            for info in archive.infolist()
            if not info.is_dir()
        ]
    return write_zip(entries)


def compiled_names(zip_bytes: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return sorted(name for name in archive.namelist() if name.endswith(".pyc"))
