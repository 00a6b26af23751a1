"""Routing an environment's host to its target group: host claim, priority slot, listener rules.

Priorities (one listener per stage):

    1-9        platform: logout paths, the close page (platform setup)
    1001-1099  per environment, slot n → 1000+n: host + login path + `login=true` → MWAA
    10000      platform: login path → authX (platform setup)
    20001-20099 per environment, slot n → 20000+n: host → MWAA

so that the browser's `…/aws_mwaa/aws-console-sso?login=true#token` reaches MWAA while a bare
login on the same host reaches authX. A slot is an item `slot#<n>` of ENVIRONMENTS_TABLE with
`claim_of` = the environment (so the API's lists skip it), taken by a conditional write: many
onboardings at once never share one. There are at most ALB_MAX_PRIVATE_ENVIRONMENTS (≤ 99)
slots, one per private environment, which is also how the ALB's 100 target groups are kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws_clients, oidc
from chalicelib.records import ddb, environments_repo

from . import alb, tags
from .errors import AwsCallFailed, CapacityExhausted, HostnameInUse, aws_call, error_code

SLOT_PREFIX = "slot#"
LOGIN_PATH = "/aws_mwaa/aws-console-sso"
LOGIN_RULE_BASE = 1000
HOST_RULE_BASE = 20000
RULES_PER_ENVIRONMENT = 2


def priorities(slot: int) -> tuple[int, int]:
    return LOGIN_RULE_BASE + slot, HOST_RULE_BASE + slot


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


def _conditions(host: str, login: bool) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = [
        {"Field": "host-header", "HostHeaderConfig": {"Values": [host]}}
    ]
    if login:
        conditions += [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": [LOGIN_PATH]}},
            {
                "Field": "query-string",
                "QueryStringConfig": {"Values": [{"Key": "login", "Value": "true"}]},
            },
        ]
    return conditions


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


def ensure_rules(
    listener_arn: str,
    environment: str,
    host: str,
    group_arn: str,
    slot: int,
    variables: Mapping[str, str],
) -> list[str]:
    """The environment's two rules at its slot's priorities; rules of an older slot removed."""
    existing = {int(rule["Priority"]): rule for rule in tagged_rules(listener_arn, environment)}
    wanted = dict(zip(priorities(slot), (True, False), strict=True))
    actions: list[dict[str, Any]] | None = None
    arns = []
    for priority, login in wanted.items():
        if priority in existing:
            arns.append(existing[priority]["RuleArn"])
            continue
        actions = actions or _actions(group_arn, variables)
        with aws_call("elasticloadbalancing:CreateRule"):
            try:
                made = aws_clients.elbv2().create_rule(
                    ListenerArn=listener_arn,
                    Priority=priority,
                    Conditions=_conditions(host, login),
                    Actions=actions,
                    Tags=tags.key_value_list(environment),
                )
            except ClientError as error:
                if error_code(error) == "PriorityInUse":
                    raise AwsCallFailed(
                        f"listener priority {priority} is used by a rule mwaa-gate did not "
                        f"make; move that rule out of {LOGIN_RULE_BASE + 1}-"
                        f"{LOGIN_RULE_BASE + 99} and {HOST_RULE_BASE + 1}-{HOST_RULE_BASE + 99}"
                    ) from error
                raise
        arns.append(made["Rules"][0]["RuleArn"])
    for priority, rule in existing.items():
        if priority not in wanted:
            delete_rule(rule["RuleArn"])
    return arns


def delete_rule(rule_arn: str) -> None:
    with aws_call("elasticloadbalancing:DeleteRule"):
        try:
            aws_clients.elbv2().delete_rule(RuleArn=rule_arn)
        except ClientError as error:
            if error_code(error) != "RuleNotFound":
                raise
