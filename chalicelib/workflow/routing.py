"""Routing an environment's host to its target group: host claim, priority slot, listener rules.

Priorities (one listener per stage):

    1-9         platform: authX's logout paths, the close page (platform setup)
    1001-1099   per environment, slot n → 1000+n: host + web login path + `login=true` → MWAA
    2001-2099   per environment, slot n → 2000+n (only when its Airflow version needs it):
                host + Airflow's "no session" and logout paths → authX
    10000       platform: authX's login path → authX (platform setup)
    20001-20099 per environment, slot n → 20000+n: host → MWAA

so that the browser's `…<web login path>?login=true#token` reaches MWAA while a bare login on the
same host reaches authX. The paths are those of the environment's Airflow version
(`authx.airflow_paths`): Airflow 2 needs two rules (its "no session" and logout paths are the
platform's), Airflow 3 three (`/auth/login/` and `/auth/logout` → authX). A slot is an item
`slot#<n>` of ENVIRONMENTS_TABLE with `claim_of` = the environment (so the API's lists skip it),
taken by a conditional write: many onboardings at once never share one. There are at most
ALB_MAX_PRIVATE_ENVIRONMENTS (≤ 99) slots, one per private environment, which is also how the
ALB's 100 target groups are kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from authx import airflow_paths
from authx.airflow_paths import Paths
from chalicelib import aws_clients, oidc
from chalicelib.records import ddb, environments_repo

from . import alb, settings, tags
from .errors import (
    AwsCallFailed,
    CapacityExhausted,
    ConfigurationError,
    HostnameInUse,
    UnsupportedEnvironment,
    aws_call,
    error_code,
)

SLOT_PREFIX = "slot#"
LOGIN_PATH = airflow_paths.AUTHX_LOGIN_PATH
# Paths the platform's own rules send to authX on every host.
PLATFORM_PATHS = frozenset({airflow_paths.AUTHX_LOGIN_PATH, *airflow_paths.AUTHX_LOGOUT_PATHS})
LOGIN_RULE_BASE = 1000
AUTHX_RULE_BASE = 2000
HOST_RULE_BASE = 20000
MAX_RULES_PER_ENVIRONMENT = 3


def priorities(slot: int) -> tuple[int, int, int]:
    """Every priority a slot may use (the authX rule only for versions that need it)."""
    return LOGIN_RULE_BASE + slot, AUTHX_RULE_BASE + slot, HOST_RULE_BASE + slot


def paths_for(version: object) -> Paths:
    """The stage's paths for an Airflow version; refusals are step errors."""
    try:
        table = airflow_paths.table()
    except airflow_paths.AirflowPathsError as error:
        raise ConfigurationError(str(error)) from error
    try:
        return airflow_paths.for_version(version, table)
    except airflow_paths.AirflowPathsError as error:
        raise UnsupportedEnvironment(f"Airflow {version}: {error}") from error


def authx_paths(paths: Paths) -> list[str]:
    """The environment's Airflow paths that must reach authX and no platform rule serves."""
    wanted = dict.fromkeys((paths.no_session, *paths.logout))
    return [path for path in wanted if path not in PLATFORM_PATHS]


def rules_needed(paths: Paths | None) -> int:
    """Listener rules one private environment takes (the most any version takes when unknown)."""
    if paths is None:
        return MAX_RULES_PER_ENVIRONMENT
    return 3 if authx_paths(paths) else 2


MAX_LABEL = 63  # a DNS label (RFC 1035); MWAA names may hold 80 characters
HASHED_LABEL_DIGITS = 8
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def host_label(name: str) -> str:
    """The first DNS label of an environment's default host.

    `Sales_ETL` → `sales-etl` (DNS has no `_` and no case). When that is not a valid label —
    longer than 63 characters, ending in `-`, or with `--` in 3rd-4th place (reserved for
    IDNA, `xn--`) — it is shortened: hyphen runs folded, cut to 54 characters, then `-` and
    the first 8 hex digits of the SHA-256 of the name (case kept), so two names never share a
    label by being cut alike.
    """
    label = name.lower().replace("_", "-")
    if DNS_LABEL.fullmatch(label) and label[2:4] != "--":
        return label
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASHED_LABEL_DIGITS]
    base = re.sub(r"-+", "-", label)[: MAX_LABEL - HASHED_LABEL_DIGITS - 1].strip("-")
    return f"{base}-{digest}" if base else digest


def default_host(name: str, base_domain: str) -> str:
    """`<host_label(name)>.<base domain>`."""
    return f"{host_label(name)}.{base_domain}"


# --- host claim --------------------------------------------------------------------------------


def claim_host(table: str, name: str, host: str) -> None:
    """Hold `host` for `name` (the API's claim item), unless a live environment holds it."""
    stale: str | None = None
    for _ in range(3):
        try:
            with aws_call("dynamodb:PutItem"):
                environments_repo.take_claim(table, host, name, stale)
            return
        except environments_repo.HostnameTaken as taken:
            with aws_call("dynamodb:GetItem"):
                stale_claim = environments_repo.claim_is_stale(table, host, taken.holder)
            if not stale_claim:
                raise HostnameInUse(
                    f"host {host} is already used by environment {taken.holder}"
                ) from None
            stale = taken.holder or None
    raise HostnameInUse(f"host {host} is being claimed by another environment; retry")


# --- priority slots ----------------------------------------------------------------------------


def _slot_items(table: str) -> dict[int, str]:
    client = aws_clients.dynamodb()
    params: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(#n, :p)",
        "ExpressionAttributeNames": {"#n": "name"},
        "ExpressionAttributeValues": {":p": {"S": SLOT_PREFIX}},
        "ConsistentRead": True,
    }
    found: dict[int, str] = {}
    while True:
        with aws_call("dynamodb:Scan"):
            page = client.scan(**params)
        for item in page.get("Items", []):
            plain = ddb.deserialize(item) or {}
            found[int(plain["name"].removeprefix(SLOT_PREFIX))] = plain.get("claim_of", "")
        if not page.get("LastEvaluatedKey"):
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def claim_slot(table: str, name: str, maximum: int, busy_priorities: set[int]) -> int:
    """The environment's slot: the one it holds already, else the lowest free one."""
    held = _slot_items(table)
    for slot, holder in sorted(held.items()):
        if holder == name:
            return slot
    client = aws_clients.dynamodb()
    for slot in range(1, maximum + 1):
        if slot in held or set(priorities(slot)) & busy_priorities:
            continue
        with aws_call("dynamodb:PutItem"):
            try:
                client.put_item(
                    TableName=table,
                    Item=ddb.serialize({"name": f"{SLOT_PREFIX}{slot}", "claim_of": name}),
                    ConditionExpression="attribute_not_exists(#n)",
                    ExpressionAttributeNames={"#n": "name"},
                )
                return slot
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
        # another onboarding took that slot a moment ago: try the next
    raise CapacityExhausted(
        f"the ALB serves its maximum of {maximum} private environments; offboard one or "
        "put this environment behind another load balancer (another stage)"
    )


def release_slot(table: str, name: str, slot: int | None = None) -> None:
    """Give back the environment's slot (all it holds, when `slot` is not known)."""
    slots = [slot] if slot else [n for n, holder in _slot_items(table).items() if holder == name]
    for number in slots:
        with aws_call("dynamodb:DeleteItem"):
            try:
                aws_clients.dynamodb().delete_item(
                    TableName=table,
                    Key={"name": {"S": f"{SLOT_PREFIX}{number}"}},
                    ConditionExpression="claim_of = :me",
                    ExpressionAttributeValues={":me": {"S": name}},
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise


# --- listener rules ----------------------------------------------------------------------------


def authx_target_group() -> str:
    """authX's Lambda target group, as platform setup names it (`<DEPLOYMENT_NAME>-authx`)."""
    name = f"{settings.deployment()}-authx"
    try:
        groups = aws_clients.elbv2().describe_target_groups(Names=[name])["TargetGroups"]
    except ClientError as error:
        if error_code(error) == "TargetGroupNotFound":
            raise ConfigurationError(
                f"authX's target group {name} does not exist: run platform setup first"
            ) from error
        with aws_call("elasticloadbalancing:DescribeTargetGroups"):
            raise
    return groups[0]["TargetGroupArn"]


@dataclass(frozen=True)
class WantedRule:
    priority: int
    conditions: list[dict[str, Any]]
    to_authx: bool


def wanted_rules(host: str, slot: int, paths: Paths) -> list[WantedRule]:
    """The environment's rules for its Airflow version, by priority."""
    login_priority, authx_priority, host_priority = priorities(slot)
    rules = [WantedRule(login_priority, _conditions(host, [paths.web_login], login=True), False)]
    to_authx = authx_paths(paths)
    if to_authx:
        rules.append(WantedRule(authx_priority, _conditions(host, to_authx), True))
    rules.append(WantedRule(host_priority, _conditions(host), False))
    return rules


def _actions(group_arn: str, variables: Mapping[str, str]) -> list[dict[str, Any]]:
    """The stage's sign-in action (authenticate-oidc or -cognito), then forward."""
    secret = None
    if oidc.needs_client_secret(variables):
        with aws_call("secretsmanager:GetSecretValue"):
            secret = oidc.client_secret(
                aws_clients.secretsmanager(), variables["OIDC_CLIENT_SECRET_ARN"]
            )
    return [
        oidc.authenticate_action(variables, secret),
        {"Type": "forward", "Order": 2, "TargetGroupArn": group_arn},
    ]


def _conditions(host: str, paths: list[str] | None = None, login: bool = False) -> list[dict]:
    conditions: list[dict[str, Any]] = [
        {"Field": "host-header", "HostHeaderConfig": {"Values": [host]}}
    ]
    if paths:
        conditions.append({"Field": "path-pattern", "PathPatternConfig": {"Values": paths}})
    if login:
        conditions.append(
            {
                "Field": "query-string",
                "QueryStringConfig": {"Values": [{"Key": "login", "Value": "true"}]},
            }
        )
    return conditions


def condition_shape(conditions: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """Conditions as comparable values, whichever of ELBv2's two spellings they use."""
    shape = []
    for condition in conditions:
        name = condition["Field"]
        if name == "query-string":
            pairs = (condition.get("QueryStringConfig") or {}).get("Values") or []
            values = tuple(sorted(f"{p.get('Key', '')}={p.get('Value', '')}" for p in pairs))
        else:
            key = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}.get(
                name, ""
            )
            config = condition.get(key) or {}
            values = tuple(sorted(config.get("Values") or condition.get("Values") or []))
        shape.append((name, values))
    return sorted(shape)


def forward_target(actions: list[dict[str, Any]]) -> str | None:
    for action in actions:
        if action.get("Type") == "forward":
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [{}]
            return action.get("TargetGroupArn") or groups[0].get("TargetGroupArn")
    return None


def tagged_rules(
    listener_arn: str, environment: str, rules: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The listener's rules (all of them, or those given) that carry this environment's tags."""
    rules = alb.rules(listener_arn) if rules is None else rules
    ours = []
    for start in range(0, len(rules), 20):
        chunk = rules[start : start + 20]
        with aws_call("elasticloadbalancing:DescribeTags"):
            described = aws_clients.elbv2().describe_tags(
                ResourceArns=[rule["RuleArn"] for rule in chunk]
            )["TagDescriptions"]
        tagged = {d["ResourceArn"] for d in described if tags.carries(d.get("Tags"), environment)}
        ours.extend(rule for rule in chunk if rule["RuleArn"] in tagged)
    return ours


@dataclass
class RulesResult:
    arns: list[str]
    changes: list[str] = field(default_factory=list)


def ensure_rules(
    listener_arn: str,
    environment: str,
    host: str,
    group_arn: str,
    slot: int,
    variables: Mapping[str, str],
    paths: Paths,
) -> RulesResult:
    """Exactly the environment's rules for its Airflow version at its slot's priorities: a rule
    whose conditions or target differ is rewritten, one no longer wanted is removed."""
    existing = {int(rule["Priority"]): rule for rule in tagged_rules(listener_arn, environment)}
    wanted = wanted_rules(host, slot, paths)
    authx_group = authx_target_group() if any(rule.to_authx for rule in wanted) else None
    result = RulesResult(arns=[])
    actions_for: dict[str, list[dict[str, Any]]] = {}

    def actions(target: str) -> list[dict[str, Any]]:
        if target not in actions_for:  # reads the client secret: only when a rule is written
            actions_for[target] = _actions(target, variables)
        return actions_for[target]

    for rule in wanted:
        target = authx_group if rule.to_authx else group_arn
        assert target is not None
        found = existing.get(rule.priority)
        if found is not None:
            same = condition_shape(found["Conditions"]) == condition_shape(rule.conditions)
            if not same or forward_target(found["Actions"]) != target:
                with aws_call("elasticloadbalancing:ModifyRule"):
                    aws_clients.elbv2().modify_rule(
                        RuleArn=found["RuleArn"],
                        Conditions=rule.conditions,
                        Actions=actions(target),
                    )
                result.changes.append(f"rule {rule.priority} rewritten")
            result.arns.append(found["RuleArn"])
            continue
        with aws_call("elasticloadbalancing:CreateRule"):
            try:
                made = aws_clients.elbv2().create_rule(
                    ListenerArn=listener_arn,
                    Priority=rule.priority,
                    Conditions=rule.conditions,
                    Actions=actions(target),
                    Tags=tags.key_value_list(environment),
                )
            except ClientError as error:
                if error_code(error) == "PriorityInUse":
                    raise AwsCallFailed(
                        f"listener priority {rule.priority} is used by a rule mwaa-gate did not "
                        f"make; move that rule out of {LOGIN_RULE_BASE + 1}-"
                        f"{LOGIN_RULE_BASE + 99}, {AUTHX_RULE_BASE + 1}-{AUTHX_RULE_BASE + 99} "
                        f"and {HOST_RULE_BASE + 1}-{HOST_RULE_BASE + 99}"
                    ) from error
                raise
        result.arns.append(made["Rules"][0]["RuleArn"])
        result.changes.append(f"rule {rule.priority} created")
    kept = {rule.priority for rule in wanted}
    for priority, found in existing.items():
        if priority not in kept:
            delete_rule(found["RuleArn"])
            result.changes.append(f"rule {priority} removed")
    return result


def delete_rule(rule_arn: str) -> None:
    with aws_call("elasticloadbalancing:DeleteRule"):
        try:
            aws_clients.elbv2().delete_rule(RuleArn=rule_arn)
        except ClientError as error:
            if error_code(error) != "RuleNotFound":
                raise
