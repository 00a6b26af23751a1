"""`python -m chalicelib.platform.destroy --stage S`: remove what platform setup made.

In reverse order: alarms, listener rules, target group, authX Lambda, IAM roles, state
machines and their role; the tables only with `--delete-tables` (they hold the records and
grants; their deletion protection is turned off for it). Log groups stay: they hold the audit
trail and expire by their retention. Refuses
while environments are onboarded (their rules, target groups and peerings would be left
behind): offboard them first, or pass `--force`. Then run `chalice delete --stage S`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from authx.roles import ROLES

from . import alarms, authx_function, iam_roles, listener_rules, tables, target_group, workflows
from . import config as stage_config
from .config import ConfigError, StageConfig
from .report import Report
from .setup import (
    ClientFactory,
    authx_name,
    boto3_clients,
    check_account,
    rbac_role_name,
    states_role_name,
)


def destroy(
    cfg: StageConfig,
    client: ClientFactory,
    *,
    delete_tables: bool = False,
    force: bool = False,
    echo: Callable[[str], None] | None = print,
) -> Report:
    cfg.check()
    check_account(client, cfg)
    dynamodb = client("dynamodb")
    live = tables.live_environments(dynamodb, cfg)
    if live and not force:
        raise ConfigError(
            f"{len(live)} environment(s) are still onboarded ({', '.join(live[:10])}): "
            "offboard them first, or pass --force to leave their resources behind"
        )
    report = Report(echo=echo)
    iam, elbv2 = client("iam"), client("elbv2")
    alarms.delete(client("cloudwatch"), report, cfg, list(alarms.SUFFIXES))
    listener_rules.delete(elbv2, report, cfg)
    target_group.delete(elbv2, report, authx_name(cfg))
    authx_function.delete(client("lambda"), report, authx_name(cfg))
    for role in ROLES:
        iam_roles.delete(iam, report, rbac_role_name(cfg, role))
    iam_roles.delete(iam, report, authx_name(cfg))
    workflows.delete(client("stepfunctions"), report, cfg)
    iam_roles.delete(iam, report, states_role_name(cfg))
    if delete_tables:
        tables.delete(dynamodb, report, cfg)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--project-dir", type=Path, default=stage_config.PROJECT_ROOT)
    parser.add_argument("--delete-tables", action="store_true", help="also delete both tables")
    parser.add_argument("--force", action="store_true", help="even with environments onboarded")
    args = parser.parse_args(argv)
    try:
        cfg = stage_config.load(args.project_dir, args.stage, need_deployed=False)
        report = destroy(
            cfg, boto3_clients(cfg.region), delete_tables=args.delete_tables, force=args.force
        )
    except ConfigError as error:
        print(f"destroy: {error}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"destroy: AWS refused: {error}", file=sys.stderr)
        return 1
    print(f"destroy of stage {args.stage} done: {report.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
