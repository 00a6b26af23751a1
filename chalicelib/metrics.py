"""The service's own CloudWatch metrics (powertools, embedded metric format) and their names.

One namespace (`POWERTOOLS_METRICS_NAMESPACE`, default `mwaa-gate`) and two dimensions on
every metric — `service` and `deployment` (`DEPLOYMENT_NAME`, so stages sharing an account
stay apart) — plus the metric's own. Platform setup builds its alarms from the same names
(chalicelib/platform/alarms.py), so a renamed metric cannot leave an alarm watching nothing.

    Requests              API requests, by `route` (e.g. `GET /environments/{name}`) and `status`
    OnboardingsStarted    onboard executions the API started
    OnboardingsFailed     onboardings that ended FAILED (the workflow's rollback step)
    EnvironmentsChecked   environments a reconcile run looked at (READY and DEGRADED)
    EnvironmentsDrifted   environments a reconcile run found drifted or degraded
    EnvironmentsFixed     drifted environments the run made true again (READY afterwards)
    EnvironmentsDegraded  environments DEGRADED after the run (gone or broken outside)
    ReconcileFailures     environments the run could not reconcile (AWS refused or failed)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit, single_metric

DEFAULT_NAMESPACE = "mwaa-gate"
DEFAULT_SERVICE = "mwaa-gate"
REQUESTS = "Requests"
ONBOARDINGS_STARTED = "OnboardingsStarted"
ONBOARDINGS_FAILED = "OnboardingsFailed"
DRIFT_METRIC = "EnvironmentsDrifted"
RECONCILE_CHECKED = "EnvironmentsChecked"
RECONCILE_FIXED = "EnvironmentsFixed"
RECONCILE_DEGRADED = "EnvironmentsDegraded"
RECONCILE_FAILED = "ReconcileFailures"


def namespace(variables: Mapping[str, str]) -> str:
    return (variables.get("POWERTOOLS_METRICS_NAMESPACE") or "").strip() or DEFAULT_NAMESPACE


def dimensions(variables: Mapping[str, str]) -> dict[str, str]:
    """The dimensions every metric of this deployment carries."""
    return {
        "service": (variables.get("POWERTOOLS_SERVICE_NAME") or "").strip() or DEFAULT_SERVICE,
        "deployment": (variables.get("DEPLOYMENT_NAME") or "").strip() or "unnamed",
    }


def count(name: str, value: float = 1, **extra: str) -> None:
    """Emit one count now (one EMF line on stdout, which CloudWatch turns into a metric)."""
    environ = os.environ
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=namespace(environ),
        default_dimensions={**dimensions(environ), **extra},
    ):
        pass
