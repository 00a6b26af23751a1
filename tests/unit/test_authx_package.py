"""The authX Lambda zip: layout, reproducibility, and the pip command for Linux wheels."""

from __future__ import annotations

import importlib.util
import io
import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib.platform import authx_package, bytecode

PROJECT = Path(__file__).resolve().parents[2]


def names(zip_bytes: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()


@pytest.fixture
def dependencies(tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    (deps / "jwt" / "__pycache__").mkdir(parents=True)
    (deps / "jwt" / "__init__.py").write_text("VERSION = 'stand-in'\n")
    (deps / "jwt" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (deps / "PyJWT-2.15.1.dist-info").mkdir()
    (deps / "PyJWT-2.15.1.dist-info" / "METADATA").write_text("Name: PyJWT\n")
    return deps


def test_zip_keeps_the_authx_folder_and_puts_dependencies_at_the_root(dependencies: Path) -> None:
    built = authx_package.build(dependencies=dependencies)

    listed = names(built)
    sources = sorted(p.name for p in (PROJECT / "authx").glob("*.py"))
    zipped = [n.removeprefix("authx/") for n in listed if n.startswith("authx/")]
    assert sorted(n for n in zipped if "/" not in n) == sources
    assert "authx/handler.py" in listed
    assert "jwt/__init__.py" in listed
    assert "PyJWT-2.15.1.dist-info/METADATA" in listed
    assert "authx/requirements.txt" not in listed
    handler_module, function = authx_package.HANDLER.rsplit(".", 1)
    assert f"{handler_module.replace('.', '/')}.py" in listed
    assert function == "lambda_handler"


def test_the_zipped_handler_imports_from_the_zip_root(dependencies: Path, tmp_path: Path) -> None:
    built = authx_package.build(dependencies=dependencies)
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(io.BytesIO(built)).extractall(unpacked)

    assert (unpacked / "authx" / "handler.py").read_text() == (
        PROJECT / "authx" / "handler.py"
    ).read_text()
    assert "def lambda_handler(" in (unpacked / "authx" / "handler.py").read_text()


def test_zip_is_reproducible(dependencies: Path) -> None:
    first = authx_package.build(dependencies=dependencies)
    (dependencies / "jwt" / "__init__.py").touch()  # a newer mtime changes nothing

    assert authx_package.build(dependencies=dependencies) == first
    infos = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert {info.date_time for info in infos} == {bytecode.FIXED_TIME}
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)


def test_zip_is_reproducible_across_processes(dependencies: Path, tmp_path: Path) -> None:
    """Another interpreter, with other modules imported, builds the same bytes."""
    script = (
        "import sys, json, chalicelib.api.handlers, authx.handler\n"
        "from pathlib import Path\n"
        "from chalicelib.platform import authx_package\n"
        "sys.stdout.buffer.write(authx_package.build(dependencies=Path(sys.argv[1])))\n"
    )
    other = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", script, str(dependencies)],
        cwd=PROJECT,
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123", "ENVIRONMENTS_TABLE": "e", "GRANTS_TABLE": "g"},
    ).stdout

    assert other == authx_package.build(dependencies=dependencies)


def test_every_module_ships_unchecked_hash_bytecode_named_by_its_zip_path(
    dependencies: Path, tmp_path: Path
) -> None:
    built = authx_package.build(dependencies=dependencies)
    archive = zipfile.ZipFile(io.BytesIO(built))
    sources = [n for n in archive.namelist() if n.endswith(".py")]

    assert sorted(bytecode.compiled_names(built)) == sorted(bytecode.pyc_name(n) for n in sources)
    # the stand-in's stale .pyc was replaced by one compiled from its source
    pyc = archive.read(bytecode.pyc_name("authx/handler.py"))
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, unchecked
    assert pyc[8:16] == importlib.util.source_hash(archive.read("authx/handler.py"))
    code = marshal.loads(pyc[16:])  # noqa: S302 - bytecode this test just built
    assert code.co_filename == "authx/handler.py"


def test_the_zipped_handler_loads_from_bytecode_without_compiling(
    dependencies: Path, tmp_path: Path
) -> None:
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(io.BytesIO(authx_package.build(dependencies=dependencies))).extractall(unpacked)
    for path in unpacked.rglob("*.py"):
        os.utime(path, (2_000_000_000, 2_000_000_000))  # sources newer than anything
    probe = (
        "import sys, importlib.machinery as m\n"
        "compiled = []\n"
        "original = m.SourceFileLoader.source_to_code\n"
        "def spy(self, data, path, *a, **k):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, *a, **k)\n"
        "m.SourceFileLoader.source_to_code = spy\n"
        "sys.dont_write_bytecode = True\n"
        "sys.path.insert(0, '.')\n"
        "import authx.roles, jwt\n"
        "print(compiled)\n"
    )

    result = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-I", "-c", probe],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"


def test_without_dependencies_only_authx_is_zipped() -> None:
    assert all(n.startswith("authx/") for n in names(authx_package.build()))


def test_a_dependency_may_not_shadow_authx(dependencies: Path) -> None:
    (dependencies / "authx").mkdir()
    (dependencies / "authx" / "handler.py").write_text("")

    with pytest.raises(ValueError, match="would overwrite authx/"):
        authx_package.build(dependencies=dependencies)


def test_pip_installs_linux_wheels_for_the_lambda_python(tmp_path: Path) -> None:
    command = authx_package.pip_command(Path("authx/requirements.txt"), tmp_path)

    text = " ".join(command)
    assert command[1:4] == ["-m", "pip", "install"]
    assert "--platform manylinux2014_x86_64" in text
    assert "--only-binary=:all:" in command
    assert f"--python-version {authx_package.PYTHON_VERSION}" in text
    assert f"--target {tmp_path}" in text
    assert "--requirement authx/requirements.txt" in text
    assert "--no-compile" in command
    assert f"python{authx_package.PYTHON_VERSION}" == authx_package.RUNTIME


def test_dependencies_are_installed_once_per_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "authx"
    source.mkdir()
    (source / "requirements.txt").write_text("PyJWT==2.15.1\n")
    runs: list[list[str]] = []

    def fake_pip(command: list[str], check: bool) -> None:
        runs.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "jwt").mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(authx_package.subprocess, "run", fake_pip)

    first = authx_package.dependencies_dir(source, tmp_path / "cache")
    again = authx_package.dependencies_dir(source, tmp_path / "cache")
    (source / "requirements.txt").write_text("PyJWT==2.15.1\ncryptography==50.0.2\n")
    changed = authx_package.dependencies_dir(source, tmp_path / "cache")

    assert first == again != changed
    assert len(runs) == 2
    assert (first / "jwt").is_dir()
