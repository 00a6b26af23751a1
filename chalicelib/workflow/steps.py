"""The onboard and offboard steps (DESIGN §4), one function each, called by app.py's Lambdas.

Every step receives `{"environment", "execution", "timing", …}`, acts only when the record
names its execution, is safe to run twice, and writes what it made to the record before it
returns. Failures are typed (errors.py); the state machine retries TransientAwsError and sends
anything else to `onboard_rollback` / `offboard_fail`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlparse

from aws_lambda_powertools import Logger

from chalicelib import aws_clients, metrics
from chalicelib.aws_clients import Location

from . import alb, mwaa_env, network, record, routing, settings, targets, teardown
from .errors import (
    CapacityExhausted,
    NetworkConflict,
    StepError,
    TeardownIncomplete,
    TransientAwsError,
    UnsupportedEnvironment,
    WrongExecution,
    classified,
)

logger = Logger(service="mwaa-gate")

PRIVATE, PUBLIC = "PRIVATE_ONLY", "PUBLIC_ONLY"
SUPPORTED_ACCESS = (PRIVATE, PUBLIC)
LIVE = ("ONBOARDING", "READY", "DEGRADED", "OFFBOARDING")


def _ids(event: dict[str, Any]) -> tuple[str, str]:
    return event["environment"], event["execution"]


def _log(step: str, name: str, **details: Any) -> None:
    logger.info("workflow step", extra={"step": step, "environment": name, **details})


def _mwaa_name(current: dict[str, Any]) -> str:
    """The environment's name in MWAA (DESIGN §2: `mwaa_name`, by default the record's name)."""
    return str(current.get("mwaa_name") or current["name"])


# --- onboard -----------------------------------------------------------------------------------


@classified
def onboard_validate(event: dict[str, Any]) -> dict[str, Any]:
    """PENDING → ONBOARDING after checking everything that can be checked before making things."""
    name, execution = _ids(event)
    current = record.owned(name, execution)
    if current.get("status") not in ("PENDING", "ONBOARDING"):
        raise WrongExecution(f"environment {name} is {current.get('status')}, not PENDING")
    mode = current["mode"]
    where, mwaa_name = Location.of(current), _mwaa_name(current)
    where.check()  # another account: its member role, or the error naming the template
    if mode == "attach":
        environment = mwaa_env.require_available(mwaa_name, where)
        access = environment.get("WebserverAccessMode", PRIVATE)
        subnets = environment["NetworkConfiguration"]["SubnetIds"]
        version = environment.get("AirflowVersion")
    else:
        parameters = current.get("create") or {}
        existing = mwaa_env.describe(mwaa_name, where)
        if existing is not None and not mwaa_env.ours(existing, name):
            raise UnsupportedEnvironment(
                f"an MWAA environment named {mwaa_name} already exists and was not created by "
                "this service; onboard it with mode 'attach' instead"
            )
        access = parameters.get("WebserverAccessMode", PRIVATE)
        subnets = parameters["NetworkConfiguration"]["SubnetIds"]
        version = parameters.get("AirflowVersion")  # None: MWAA's default, known once created
    if access not in SUPPORTED_ACCESS:
        raise UnsupportedEnvironment(
            f"environment {name} uses web server access mode {access}; mwaa-gate serves "
            f"{' and '.join(SUPPORTED_ACCESS)} only"
        )
    if access == PRIVATE and where.other_region:
        raise UnsupportedEnvironment(
            f"environment {name} is PRIVATE_ONLY in {where.region}, but the ALB is in "
            f"{aws_clients.own_region()}: it reaches private web servers through VPC peering "
            "with security-group references, which work within one region only. Make the "
            "environment PUBLIC_ONLY, or serve it from an mwaa-gate deployment in "
            f"{where.region}"
        )
    # The version's paths must be known before anything is made (an unknown major fails here).
    paths = routing.paths_for(version) if version else None
    changes: dict[str, Any] = {
        "status": "ONBOARDING",
        "access_mode": access,
        "account_id": where.account_id or aws_clients.own_identity()[0],
        "region": where.region or aws_clients.own_region(),
        "mwaa_name": mwaa_name,
    }
    if version:
        changes["airflow_version"] = version
    if access == PRIVATE:
        listener = settings.alb().listener_arn
        rules = alb.rules(listener)  # listed once for the quota check and the slot
        ours = {rule["RuleArn"] for rule in routing.tagged_rules(listener, name, rules)}
        others = [rule for rule in rules if rule["RuleArn"] not in ours]
        changes.update(
            _validate_private(current, subnets, others, where, routing.rules_needed(paths))
        )
    current = record.save(current, **changes)
    if access == PRIVATE:
        _reserve_routing(current, {int(rule["Priority"]) for rule in others})
    _log("onboard_validate", name, mode=mode, access_mode=access)
    return {"mode": mode, "access_mode": access}


def _validate_private(
    current: dict[str, Any],
    subnets: list[str],
    other_rules: list[dict[str, Any]],
    where: Location,
    needed: int,
) -> dict[str, Any]:
    name = current["name"]
    alb_settings = settings.alb()
    balancer = alb.behind(alb_settings.listener_arn)
    environment_vpc = network.vpc_of_subnets(subnets, where)
    alb_vpc = network.vpc(balancer.vpc_id)
    peered = environment_vpc.id != alb_vpc.id
    if peered:
        clash = network.overlapping(environment_vpc.cidrs, alb_vpc.cidrs)
        if clash:
            raise NetworkConflict(
                f"the VPC of {name} ({environment_vpc.id}, {', '.join(environment_vpc.cidrs)}) "
                f"overlaps the ALB's VPC ({alb_vpc.id}, {', '.join(alb_vpc.cidrs)}): peering "
                "cannot route between them"
            )
        for other in record.others(name):
            if (
                other.get("status") not in LIVE
                or not other.get("peered")
                or other.get("vpc_id") == environment_vpc.id
            ):
                continue
            clash = network.overlapping(environment_vpc.cidrs, other.get("vpc_cidrs") or [])
            if clash:
                raise NetworkConflict(
                    f"the VPC of {name} ({', '.join(environment_vpc.cidrs)}) overlaps the VPC "
                    f"of environment {other['name']} ({', '.join(other['vpc_cidrs'])}), which "
                    "is peered with the ALB's VPC too"
                )
    quota = alb.rules_quota()
    if len(other_rules) + needed > quota:
        raise CapacityExhausted(
            f"the ALB's listener has {len(other_rules)} other rules of its quota of {quota}; "
            f"this private environment needs {needed} (2 for Airflow 2, 3 for Airflow 3): raise "
            "the quota 'Rules per Application Load Balancer' or offboard an environment"
        )
    return {
        "vpc_id": environment_vpc.id,
        "vpc_cidrs": list(environment_vpc.cidrs),
        "peered": peered,
    }


def _reserve_routing(current: dict[str, Any], busy: set[int]) -> None:
    """Claim the host and a priority slot (free of the `busy` priorities of other rules) now,
    so capacity is held before anything is made."""
    name = current["name"]
    alb_settings = settings.alb()
    table = settings.environments_table()
    host = current.get("hostname") or routing.default_host(name, alb_settings.base_domain)
    routing.claim_host(table, name, host)
    slot = routing.claim_slot(table, name, alb_settings.max_private_environments, busy)
    record.remember(current, host=host, slot=slot)


@classified
def onboard_create_environment(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    mwaa_env.ensure_created(
        _mwaa_name(current), current.get("create") or {}, Location.of(current), tag_name=name
    )
    if not record.created(current).get("environment"):
        record.remember(current, environment=True)
    _log("onboard_create_environment", name)
    return mwaa_env.first_wait(event["timing"])


@classified
def onboard_poll_environment(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    wait = mwaa_env.poll(_mwaa_name(current), event["wait"], event["timing"], Location.of(current))
    _log("onboard_poll_environment", name, available=wait["available"], next_wait=wait["seconds"])
    return wait


def _private_context(current: dict[str, Any]) -> tuple[dict[str, Any], alb.LoadBalancer]:
    environment = mwaa_env.require_available(_mwaa_name(current), Location.of(current))
    return environment, alb.behind(settings.alb().listener_arn)


@classified
def onboard_connect_network(event: dict[str, Any]) -> dict[str, Any]:
    """Peering (unless same VPC), routes both ways, HTTPS from the ALB's security groups.

    In another account: requested here and accepted there, routes and the ingress rule made
    there with the member role (the rule names the ALB's group with its account)."""
    name, execution = _ids(event)
    current = record.owned(name, execution)
    where = Location.of(current)
    environment, balancer = _private_context(current)
    subnets = environment["NetworkConfiguration"]["SubnetIds"]
    environment_vpc = network.vpc_of_subnets(subnets, where)
    alb_vpc = network.vpc(balancer.vpc_id)
    group_id = environment["NetworkConfiguration"]["SecurityGroupIds"][0]
    peering_id = None
    if environment_vpc.id != alb_vpc.id:
        peering_id, made = network.ensure_peering(name, alb_vpc.id, environment_vpc.id, where)
        mine = {"peering_connection_id": peering_id} if made else {}
        current = record.save(
            current,
            peering_connection_id=peering_id,
            ingress_group_id=group_id,
            created={**record.created(current), **mine},
        )
        plans = [
            network.plan_routes(
                network.route_tables(alb_vpc.id, balancer.subnet_ids),
                environment_vpc.cidrs,
                peering_id,
            ),
            network.plan_routes(
                network.route_tables(environment_vpc.id, subnets, where),
                alb_vpc.cidrs,
                peering_id,
                where,
            ),
        ]
        current = _remember_routes(current, plans)
        for plan in plans:
            network.apply_routes(plan)
    else:
        current = record.save(current, ingress_group_id=group_id)
    source_account = aws_clients.own_identity()[0] if where.other_account else None
    added = network.ensure_ingress(
        name, group_id, balancer.security_group_ids, where, source_account
    )
    if added:
        known = record.created(current).get("ingress") or []
        record.remember(current, ingress=known + added)
    _log("onboard_connect_network", name, peering=peering_id, same_vpc=peering_id is None)
    return {"peering_connection_id": peering_id}


def _remember_routes(current: dict[str, Any], plans: list[network.RoutePlan]) -> dict[str, Any]:
    """Write down, before making them, the routes this service makes for the environment, and
    the ones it finds that this service made for another live environment (shared: the last
    environment out removes them). A route someone else made is used and never written down."""
    name = current["name"]
    made_here = {
        network.route_key(entry)
        for other in record.others(name)
        if other.get("status") in LIVE
        for entry in (other.get("created") or {}).get("routes") or []
    }
    known = list(record.created(current).get("routes") or [])
    keys = {network.route_key(entry) for entry in known}
    for plan in plans:
        shared = [e for e in plan.present if network.route_key(e) in made_here]
        for entry in [*plan.to_make, *shared]:
            if network.route_key(entry) not in keys:
                known.append(entry)
                keys.add(network.route_key(entry))
    if known == (record.created(current).get("routes") or []):
        return current
    return record.remember(current, routes=known)


@classified
def onboard_register_targets(event: dict[str, Any]) -> dict[str, Any]:
    """Endpoint IPs (API, not DNS; in the environment's account) registered in the
    environment's IP target group."""
    name, execution = _ids(event)
    current = record.owned(name, execution)
    where = Location.of(current)
    environment, balancer = _private_context(current)
    subnets = environment["NetworkConfiguration"]["SubnetIds"]
    environment_vpc = network.vpc_of_subnets(subnets, where)
    ips = targets.endpoint_ips(environment, environment_vpc.id, where)
    version = environment.get("AirflowVersion")
    paths = routing.paths_for(version)
    group_arn, _ = targets.ensure_target_group(name, balancer.vpc_id, paths.health_check)
    current = record.remember(current, target_group_arn=group_arn)
    targets.sync_targets(group_arn, ips, network.vpc(balancer.vpc_id).cidrs)
    record.save(current, target_group_arn=group_arn, endpoint_ips=ips, airflow_version=version)
    _log("onboard_register_targets", name, targets=len(ips))
    return {"target_group_arn": group_arn, "endpoint_ips": ips}


@classified
def onboard_route_host(event: dict[str, Any]) -> dict[str, Any]:
    """The listener rules for the environment's host and Airflow version, behind the stage's
    sign-in action."""
    name, execution = _ids(event)
    current = record.owned(name, execution)
    created = record.created(current)
    rule_arns = routing.ensure_rules(
        settings.alb().listener_arn,
        name,
        created["host"],
        created["target_group_arn"],
        int(created["slot"]),
        settings.oidc_variables(),
        routing.paths_for(current.get("airflow_version")),
    ).arns
    record.save(current, rule_arns=rule_arns, created={**created, "rule_arns": rule_arns})
    _log("onboard_route_host", name, rules=len(rule_arns), slot=created["slot"])
    return {"rule_arns": rule_arns}


@classified
def onboard_finish(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    environment = mwaa_env.require_available(_mwaa_name(current), Location.of(current))
    webserver = environment.get("WebserverUrl", "")
    webserver_host = urlparse(webserver).hostname if "//" in webserver else webserver
    if current.get("access_mode") == PRIVATE:
        login_host = record.created(current)["host"]
    else:
        login_host = webserver_host
    record.save(
        current,
        status="READY",
        login_host=login_host,
        webserver_hostname=webserver_host,
        airflow_version=environment.get("AirflowVersion") or current.get("airflow_version"),
        error=None,
    )
    _log("onboard_finish", name, login_host=login_host)
    return {"status": "READY", "login_host": login_host}


def _failure(event: dict[str, Any]) -> dict[str, str]:
    """`{"code", "cause"}` from a Catch's `{"Error", "Cause"}` (a Lambda's cause is JSON)."""
    failure = event.get("failure") or {}
    code = str(failure.get("Error") or "States.Unknown")
    cause = failure.get("Cause") or ""
    try:
        document = json.loads(cause)
    except (TypeError, ValueError):
        document = None
    if isinstance(document, dict) and "errorMessage" in document:
        cause = document["errorMessage"]
    return {"code": code, "cause": str(cause)[:2000]}


def _outcome(status: str, error: dict[str, Any]) -> dict[str, Any]:
    """What the final Fail state reports: a Fail state's error may not start with `States.`."""
    code = error["code"]
    if code.startswith("States."):
        code = "Workflow." + code.removeprefix("States.")
    return {"status": status, "error": code, "cause": error["cause"]}


def _owned_or_stale(step: str, name: str, execution: str) -> dict[str, Any] | None:
    """The record for a failure step, or None when another execution owns it now (then the
    failure of this stale execution must not touch the record)."""
    try:
        return record.owned(name, execution)
    except WrongExecution as stale:
        _log(step, name, skipped=str(stale))
        return None


STALE = {"code": "StaleExecution", "cause": "another execution now handles this environment"}


def _left_behind(created: dict[str, Any]) -> dict[str, Any]:
    """What a compensation that met problems keeps on the record for offboarding to remove: the
    environment it made, and the routes it added that are still there (routes carry no tag)."""
    left: dict[str, Any] = {}
    if created.get("environment"):
        left["environment"] = created["environment"]
    routes = created.get("routes") or []
    with contextlib.suppress(StepError):  # cannot tell: keep them all (removing is idempotent)
        routes = network.still_routed(routes)
    if routes:
        left["routes"] = routes
    return left


def _record_failed_compensation(
    current: dict[str, Any], error: dict[str, Any], rollback_failure: dict[str, Any]
) -> dict[str, Any]:
    """The compensation itself failed (state `Record failure`): FAILED with both causes, and
    `created` kept as it is, so that offboarding removes what is left. Without this, a record
    would stay ONBOARDING for good."""
    failed = _failure({"failure": rollback_failure})
    error["compensation"] = [f"the compensation failed: {failed['code']}: {failed['cause']}"]
    record.save(current, status="FAILED", error=error)
    logger.warning("onboarding failed, compensation failed", extra={"environment": current["name"]})
    metrics.count(metrics.ONBOARDINGS_FAILED)
    return _outcome("FAILED", error)


@classified
def onboard_rollback(event: dict[str, Any]) -> dict[str, Any]:
    """Compensation: remove what this run made, in reverse, then record FAILED with the cause."""
    name, execution = _ids(event)
    error = _failure(event)
    current = _owned_or_stale("onboard_rollback", name, execution)
    if current is None:
        return _outcome("SKIPPED", STALE)
    if event.get("rollback_failure"):
        return _record_failed_compensation(current, error, event["rollback_failure"])
    created = record.created(current)
    problems = [str(problem) for problem in teardown.remove_all(name, current)]
    if created.get("environment") and current.get("mode") == "create":
        try:
            mwaa_env.start_delete(_mwaa_name(current), Location.of(current))
        except StepError as failure:  # keep compensating; the problem is recorded below
            problems.append(str(failure))
    if problems:
        error["compensation"] = problems
    remaining = _left_behind(created) if problems else {}
    record.save(
        current,
        status="FAILED",
        error=error,
        created=remaining,
        rule_arns=None,
        target_group_arn=None,
        peering_connection_id=None,
        ingress_group_id=None,
        endpoint_ips=None,
    )
    logger.warning("onboarding failed", extra={"environment": name, "error": error})
    metrics.count(metrics.ONBOARDINGS_FAILED)
    return _outcome("FAILED", error)


# --- offboard ----------------------------------------------------------------------------------


@classified
def offboard_begin(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    if current.get("status") != "OFFBOARDING":
        raise WrongExecution(f"environment {name} is {current.get('status')}, not OFFBOARDING")
    delete = bool(
        event.get("delete_environment")
        and current.get("mode") == "create"
        and record.created(current).get("environment")
    )
    _log("offboard_begin", name, delete_environment=delete)
    return {"delete_environment": delete}


@classified
def offboard_teardown(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    created = record.created(current)
    problems = teardown.remove_all(name, current)
    if problems:
        left = f"offboarding {name} left resources: " + "; ".join(map(str, problems))
        if any(isinstance(problem, TransientAwsError) for problem in problems):
            raise TransientAwsError(left)  # the state machine runs the teardown again
        raise TeardownIncomplete(left)
    kept = {"environment": True} if created.get("environment") else {}
    record.save(
        current,
        created=kept,
        rule_arns=None,
        target_group_arn=None,
        peering_connection_id=None,
        ingress_group_id=None,
        endpoint_ips=None,
    )
    _log("offboard_teardown", name)
    return {"removed": True}


@classified
def offboard_delete_environment(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    exists = mwaa_env.start_delete(_mwaa_name(current), Location.of(current))
    _log("offboard_delete_environment", name, exists=exists)
    return {**mwaa_env.first_wait(event["timing"]), "gone": not exists}


@classified
def offboard_poll_deleted(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    wait = mwaa_env.poll_deleted(
        _mwaa_name(current), event["wait"], event["timing"], Location.of(current)
    )
    _log("offboard_poll_deleted", name, gone=wait["gone"])
    return wait


@classified
def offboard_finish(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    current = record.owned(name, execution)
    deleted = bool(event.get("deleted"))
    kept = (
        {} if deleted else {k: v for k, v in record.created(current).items() if k == "environment"}
    )
    record.save(current, status="OFFBOARDED", created=kept, login_host=None, error=None)
    _log("offboard_finish", name, environment_deleted=deleted)
    return {"status": "OFFBOARDED"}


@classified
def offboard_fail(event: dict[str, Any]) -> dict[str, Any]:
    name, execution = _ids(event)
    error = _failure(event)
    current = _owned_or_stale("offboard_fail", name, execution)
    if current is None:
        return _outcome("SKIPPED", STALE)
    record.save(current, status="FAILED", error=error)
    logger.warning("offboarding failed", extra={"environment": name, "error": error})
    return _outcome("FAILED", error)
