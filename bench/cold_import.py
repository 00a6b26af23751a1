"""Cold import of both Lambda zips as packaged, with their bytecode and without: prints figures.

A Lambda cold start imports the handler module from the extracted zip, where nothing can be
written: without `.pyc` files every module is compiled on every cold start. Both zips ship
unchecked-hash bytecode (chalicelib/platform/bytecode.py); this shows what that saves.

For authX (`import authx.handler`, its zip from authx_package with its real dependencies) and
for the app (`import app`, the zip `chalice deploy` uploads, built by app_package in a copy of
the project): the median of N fresh interpreters (default 7), each with the zip's folder
first on sys.path and `-B` (no bytecode written, as on Lambda), boto3 from this environment
(the Lambda runtime brings its own, compiled). Dependencies are installed as Linux wheels by
pip (cached under build/), so the first run needs the package index.

    .venv/bin/python bench/cold_import.py [N]
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.platform import app_package, authx_package  # noqa: E402

MODULES = {"authX": "authx.handler", "app": "app"}
ENVIRONMENT = {
    # what the modules read at import (the values do not matter for importing)
    "API_AUTHORIZER": "iam",
    "ENVIRONMENTS_TABLE": "bench-environments",
    "GRANTS_TABLE": "bench-grants",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "bench",
}
PROBE = (
    "import sys, time\n"
    "sys.path[:0] = [sys.argv[1]]\n"
    "started = time.perf_counter()\n"
    "__import__(sys.argv[2])\n"
    "print((time.perf_counter() - started) * 1000)\n"
)


def authx_zip() -> bytes:
    source = ROOT / "authx"
    return authx_package.build(source, authx_package.dependencies_dir(source, ROOT / "build"))


def app_zip(folder: Path) -> bytes:
    """The zip `chalice deploy --stage local` would upload, built in a copy of the project."""
    project = folder / "project"
    project.mkdir()
    for name in ("app.py", "chalicelib", "vendor", "requirements.txt", "statemachines"):
        (project / name).symlink_to(ROOT / name)
    (project / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", project / ".chalice" / "config.json")
    return app_package.prebuild(project, "local").read_bytes()


def unpack(zip_bytes: bytes, target: Path, bytecode: bool) -> Path:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for info in archive.infolist():
            if bytecode or "__pycache__/" not in info.filename:
                archive.extract(info, target)
    return target


def cold_import_ms(folder: Path, module: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        result = subprocess.run(  # noqa: S603 - this interpreter, our probe
            [sys.executable, "-B", "-c", PROBE, str(folder), module],
            capture_output=True,
            text=True,
            check=True,
            env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **ENVIRONMENT},
            cwd=folder,
        )
        timings.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 7
    figures = {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for label, build in (("authX", authx_zip), ("app", lambda: app_zip(folder))):
            zip_bytes = build()
            module = MODULES[label]
            with_pyc = cold_import_ms(unpack(zip_bytes, folder / label / "pyc", True), module, runs)
            without = cold_import_ms(unpack(zip_bytes, folder / label / "src", False), module, runs)
            figures[label] = {
                "zip_kib": round(len(zip_bytes) / 1024),
                "cold_import_ms_with_bytecode": round(with_pyc, 1),
                "cold_import_ms_without_bytecode": round(without, 1),
            }
            print(
                f"{label:<6} zip {len(zip_bytes) / 1024:7.0f} KiB   cold import "
                f"{with_pyc:7.1f} ms with bytecode, {without:7.1f} ms without "
                f"(median of {runs}, `import {module}`)"
            )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
