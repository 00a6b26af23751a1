"""`python -m chalicelib.platform.package --stage S` (`make package STAGE=S`): one template.

For teams that deploy through CloudFormation, StackSets or their own pipeline instead of
`make deploy`. Writes into `--out` (default `build/package-<stage>/`):

    sam.json         the stack: Chalice's app (API, step functions) merged with the platform
                     (`cloudformation.py`: tables, roles, authX and its target group, platform
                     rules, state machines, log groups, alarms)
    deployment.zip   the app's code, as Chalice built it, rebuilt with bytecode (bytecode.py)
    authx.zip        authX's code (authx_package.py)

Then `aws cloudformation package --template-file sam.json --s3-bucket B --output-template-file
packaged.json` and `aws cloudformation deploy --template-file packaged.json --stack-name N
--capabilities CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND`. The stage's IAM policy files are
written first (as `make deploy` does). Exit 0 when done, 2 for a configuration problem, 1 when
Chalice fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from chalice.cli.factory import CLIFactory

from . import bytecode, cloudformation, policies
from . import config as stage_config
from .config import ConfigError
from .setup import authx_zip

TEMPLATE = "sam.json"
APP_ZIP = "deployment.zip"


def chalice_command() -> str:
    return str(Path(sys.executable).with_name("chalice"))


def app_functions(project_dir: Path, variables: dict[str, str]) -> set[str]:
    """The Lambda functions of the project's Chalice app, loaded as `chalice package` loads
    it (with the stage's variables, which Chalice puts into os.environ: restored after)."""
    saved = dict(os.environ)
    try:
        app = CLIFactory(str(project_dir)).load_chalice_app(environment_variables=dict(variables))
        return cloudformation.app_functions(app)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def package(project_dir: Path, stage: str, out: Path, authx_deps: Path | None = None) -> Path:
    """Write the three files into `out`; the template's path."""
    cfg = stage_config.load(project_dir, stage, need_deployed=False)
    cfg.check()  # every setting, before anything is loaded or written
    merge = cloudformation.template(cfg, app_functions(project_dir, cfg.variables))
    policies.write_files(project_dir, cfg)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(merge, handle, indent=2, sort_keys=True)
    try:
        # The app is imported with the stage's settings, as at run time (the reconciler's
        # schedule rate is read at import).
        environment = {**os.environ, **cfg.variables, "AWS_DEFAULT_REGION": cfg.region}
        subprocess.run(  # noqa: S603 - the venv's own chalice, fixed arguments
            [
                chalice_command(),
                "package",
                "--stage",
                stage,
                "--merge-template",
                handle.name,
                str(out),
            ],
            cwd=project_dir,
            env=environment,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    app_zip = out / APP_ZIP
    app_zip.write_bytes(bytecode.rebuild(app_zip.read_bytes()))
    (out / cloudformation.AUTHX_ZIP).write_bytes(authx_zip(project_dir, authx_deps))
    return out / TEMPLATE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--project-dir", type=Path, default=stage_config.PROJECT_ROOT)
    parser.add_argument("--out", type=Path, help="folder to write (default build/package-STAGE)")
    parser.add_argument(
        "--authx-deps",
        type=Path,
        help="authX's dependencies installed already (else pip installs Linux wheels into build/)",
    )
    args = parser.parse_args(argv)
    out = args.out or args.project_dir / "build" / f"package-{args.stage}"
    try:
        written = package(args.project_dir, args.stage, out, args.authx_deps)
    except ConfigError as error:
        print(f"package: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"package: chalice package failed (exit {error.returncode})", file=sys.stderr)
        return 1
    print(f"wrote {written} with {APP_ZIP} and {cloudformation.AUTHX_ZIP} beside it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
