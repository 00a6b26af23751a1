"""Reconciliation (DESIGN §4): keep a READY (or DEGRADED) environment true to what MWAA says now.

One environment at a time, observe → plan → apply, with the workflow's own step modules:

- observe: GetEnvironment (gone, or in a failed state → the cause of a DEGRADED status; busy
  with an update or maintenance → nothing is touched this time); for a private environment the
  web server endpoint's IPs (from the API, never DNS), its target group and its listener rules;
- plan and apply, only on what this deployment made (found by name and tag): the target group's
  registrations made exactly the endpoint IPs; the health check, the listener rules and the
  record's `airflow_version` made those of the version MWAA reports (`authx.airflow_paths`);
  DEGRADED with the cause when the environment is gone or broken, READY again once it is back.

Running it twice changes nothing the second time: every apply is an `ensure_*` of the step
modules, and the record is written only when a field differs. `run_all` does this for every
READY and DEGRADED environment (the scheduled function) and emits the run's metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import metrics
from chalicelib.aws_clients import Location
from chalicelib.records import environments_repo

from . import alb, mwaa_env, network, record, routing, settings, targets
from .errors import EnvironmentUnavailable, StepError

logger = Logger(service="mwaa-gate")

READY, DEGRADED = "READY", "DEGRADED"
RECONCILABLE = (READY, DEGRADED)
PRIVATE = "PRIVATE_ONLY"
# MWAA is working on the environment: its endpoints may move meanwhile; look again next run.
BUSY = ("CREATING", "UPDATING", "MAINTENANCE", "ROLLING_BACK", "CREATING_SNAPSHOT")
DEGRADED_CODE = "EnvironmentDegraded"


class NotReconcilable(StepError):
    """The record is in a state reconciliation does not touch (not READY or DEGRADED)."""


@dataclass
class Observed:
    environment: dict[str, Any] | None = None
    problem: str | None = None  # why it cannot be served: the cause of DEGRADED
    busy: str | None = None  # MWAA's status while it works on the environment
    ips: list[str] | None = None


@dataclass
class Outcome:
    record: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def degraded(self) -> bool:
        return self.record.get("status") == DEGRADED


def observe(current: dict[str, Any]) -> Observed:
    """MWAA's view of the environment, in its own account and region (DESIGN §4)."""
    name = current.get("mwaa_name") or current["name"]
    where = Location.of(current)
    environment = mwaa_env.describe(name, where)
    if environment is None:
        return Observed(problem=f"MWAA has no environment named {name} any more")
    status = environment.get("Status")
    if status in BUSY:
        return Observed(environment=environment, busy=status)
    if status != "AVAILABLE":
        error = (environment.get("LastUpdate") or {}).get("Error") or {}
        reason = ": ".join(filter(None, [error.get("ErrorCode"), error.get("ErrorMessage")]))
        return Observed(
            environment=environment,
            problem=f"MWAA reports environment {name} {status}"
            + (f" ({reason})" if reason else ""),
        )
    observed = Observed(environment=environment)
    if current.get("access_mode") == PRIVATE:
        try:
            observed.ips = targets.endpoint_ips(environment, current["vpc_id"], where)
        except EnvironmentUnavailable as unavailable:
            observed.problem = str(unavailable)
    return observed


def _degrade(current: dict[str, Any], problem: str) -> Outcome:
    error = {"code": DEGRADED_CODE, "cause": problem}
    if current.get("status") == DEGRADED and current.get("error") == error:
        return Outcome(current)
    change = f"status: {current.get('status')} → {DEGRADED}: {problem}"
    saved = record.save(current, status=DEGRADED, error=error)
    logger.warning("environment degraded", extra={"environment": current["name"], "cause": problem})
    return Outcome(saved, [change])


def _private(current: dict[str, Any], observed: Observed, paths: Any) -> tuple[dict, list[str]]:
    """Target group, health check, registrations, listener rules: (record fields, changes)."""
    name = current["name"]
    created = record.created(current)
    listener = settings.alb().listener_arn
    balancer = alb.behind(listener)
    changes: list[str] = []
    group = targets.find_target_group(name)
    if group is None:
        group_arn, _ = targets.ensure_target_group(name, balancer.vpc_id, paths.health_check)
        changes.append("target group re-created")
    else:
        group_arn = group["TargetGroupArn"]
        before = group.get("HealthCheckPath")
        if targets.ensure_health_check(group, paths.health_check):
            changes.append(f"health check: {before} → {paths.health_check}")
    ips = observed.ips or []
    registered, deregistered = targets.sync_targets(
        group_arn, ips, network.vpc(balancer.vpc_id).cidrs
    )
    if registered:
        changes.append(f"targets registered: {', '.join(registered)}")
    if deregistered:
        changes.append(f"targets deregistered: {', '.join(deregistered)}")
    rules = routing.ensure_rules(
        listener,
        name,
        created["host"],
        group_arn,
        int(created["slot"]),
        settings.oidc_variables(),
        paths,
    )
    changes.extend(rules.changes)
    fields: dict[str, Any] = {}
    if current.get("endpoint_ips") != ips:
        fields["endpoint_ips"] = ips
    if current.get("target_group_arn") != group_arn or current.get("rule_arns") != rules.arns:
        fields.update(target_group_arn=group_arn, rule_arns=rules.arns)
        fields["created"] = {**created, "target_group_arn": group_arn, "rule_arns": rules.arns}
    return fields, changes


def reconcile_record(current: dict[str, Any]) -> Outcome:
    """Observe, plan and apply for one environment record; what changed."""
    if current.get("status") not in RECONCILABLE:
        raise NotReconcilable(
            f"environment {current['name']} is {current.get('status')}: only READY and "
            "DEGRADED environments are reconciled"
        )
    observed = observe(current)
    if observed.busy:
        return Outcome(current, skipped=f"MWAA is {observed.busy}; nothing was changed")
    if observed.problem:
        return _degrade(current, observed.problem)
    environment = observed.environment or {}
    version = environment.get("AirflowVersion") or current.get("airflow_version")
    paths = routing.paths_for(version)
    fields: dict[str, Any] = {}
    changes: list[str] = []
    if current.get("access_mode") == PRIVATE:
        fields, changes = _private(current, observed, paths)
    if version != current.get("airflow_version"):
        changes.append(f"airflow_version: {current.get('airflow_version')} → {version}")
        fields["airflow_version"] = version
    if current.get("status") == DEGRADED:
        changes.append(f"status: {DEGRADED} → {READY}")
        fields.update(status=READY, error=None)
    saved = record.save(current, **fields) if fields else current
    if changes:
        logger.info(
            "environment reconciled", extra={"environment": current["name"], "changes": changes}
        )
    return Outcome(saved, changes)


def reconcile(name: str) -> Outcome:
    return reconcile_record(record.load(name))


# --- every environment (the scheduled function) ------------------------------------------------


@dataclass
class Run:
    checked: int = 0
    drifted: int = 0
    fixed: int = 0
    degraded: int = 0
    failed: int = 0
    environments: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "drifted": self.drifted,
            "fixed": self.fixed,
            "degraded": self.degraded,
            "failed": self.failed,
            "changes": self.environments,
        }


def run_all() -> dict[str, Any]:
    """Reconcile every READY and DEGRADED environment; one failure never stops the others."""
    run = Run()
    for current in environments_repo.all_records(settings.environments_table()):
        if current.get("status") not in RECONCILABLE:
            continue
        run.checked += 1
        name = current["name"]
        try:
            outcome = reconcile_record(current)
        except StepError as failure:  # AWS refused or failed: counted, logged, next one
            run.failed += 1
            run.environments[name] = [f"failed: {failure}"]
            logger.warning("reconcile failed", extra={"environment": name, "error": str(failure)})
            continue
        if outcome.changes:
            run.environments[name] = outcome.changes
        if outcome.changes or outcome.degraded:
            run.drifted += 1
        if outcome.changes and not outcome.degraded:
            run.fixed += 1
        if outcome.degraded:
            run.degraded += 1
    emit(run)
    logger.info("reconcile run", extra=run.summary())
    return run.summary()


def emit(run: Run) -> None:
    """The run's figures as CloudWatch metrics (chalicelib.metrics: the drift alarm's source)."""
    for name, value in (
        (metrics.RECONCILE_CHECKED, run.checked),
        (metrics.DRIFT_METRIC, run.drifted),
        (metrics.RECONCILE_FIXED, run.fixed),
        (metrics.RECONCILE_DEGRADED, run.degraded),
        (metrics.RECONCILE_FAILED, run.failed),
    ):
        metrics.count(name, value)
