"""The app's zip for `chalice deploy`, with bytecode (`make deploy` runs this first).

`chalice deploy` builds its deployment package once per content — `.chalice/deployments/
<hash of requirements, app and vendor>-<python>.zip` — and reuses a package already there.
This builds that package with Chalice's own packager (same dependencies, same layout) and
rebuilds it in place with bytecode and fixed times (`bytecode.py`), so the `chalice deploy`
that follows uploads it: the app's cold start does not compile, like authX's. A changed
app changes the hash, so a stale package is never reused.

    python -m chalicelib.platform.app_package --stage S
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import bytecode
from . import config as stage_config


def prebuild(project_dir: Path, stage: str) -> Path:
    """Build (or find) the package `chalice deploy --stage` will use; add bytecode; its path."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.packager import (
        DependencyBuilder,
        LambdaDeploymentPackager,
        PipRunner,
        SubprocessPip,
    )
    from chalice.utils import UI, OSUtils

    config = CLIFactory(str(project_dir)).create_config_obj(chalice_stage_name=stage)
    osutils = OSUtils()
    builder = DependencyBuilder(
        osutils=osutils,
        pip_runner=PipRunner(pip=SubprocessPip(osutils=osutils), osutils=osutils),
        architecture=config.lambda_architecture,
    )
    packager = LambdaDeploymentPackager(
        osutils=osutils,
        dependency_builder=builder,
        ui=UI(),
        architecture=config.lambda_architecture,
    )
    path = Path(packager.create_deployment_package(str(project_dir), config.lambda_python_version))
    built = path.read_bytes()
    rebuilt = bytecode.rebuild(built)
    if rebuilt != built:
        path.write_bytes(rebuilt)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--project-dir", type=Path, default=stage_config.PROJECT_ROOT)
    args = parser.parse_args(argv)
    try:
        stage_config.load(args.project_dir, args.stage, need_deployed=False)
    except stage_config.ConfigError as error:
        print(f"app_package: {error}", file=sys.stderr)
        return 2
    path = prebuild(args.project_dir, args.stage)
    print(f"app package with bytecode: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
