"""The platform's listener rules on the stage's HTTPS listener (priorities: see workflow.routing).

    1      /logout, /logout/             authenticate → authX
    2      /logout/close                 → authX, unauthenticated (it would sign in again)
    3      host PORTAL_HOST, path /      authenticate → authX (the portal)
    10000  /aws_mwaa/aws-console-sso     authenticate → authX

"authenticate" is the stage's sign-in action, `authenticate-oidc` or `authenticate-cognito`
(`chalicelib.oidc`); changing the choice rewrites the rules on the next run.
Each rule carries the deployment tag and `mwaa-gate:platform-rule=<key>`, which is how setup
finds its own rules again and never touches anyone else's (the per-environment rules carry
`mwaa-gate:environment` instead). The OIDC client secret is read from Secrets Manager when a
rule is written and goes nowhere else; Describe answers never contain it, so a rule counts as
unchanged when everything else matches (`--rotate-client-secret` rewrites it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authx.airflow_paths import AUTHX_CLOSE_PATH, AUTHX_LOGIN_PATH, AUTHX_LOGOUT_PATHS
from chalicelib import oidc

from .config import StageConfig
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report

KIND = "listener-rule"
RULE_TAG = "mwaa-gate:platform-rule"


@dataclass(frozen=True)
class Rule:
    key: str
    priority: int
    paths: tuple[str, ...]
    authenticate: bool
    hosts: tuple[str, ...] = ()


PORTAL_PRIORITY = 3


def rules(cfg: StageConfig) -> tuple[Rule, ...]:
    """The platform rules of this stage (the portal's host comes from its settings)."""
    return (
        Rule("logout", 1, AUTHX_LOGOUT_PATHS, authenticate=True),
        Rule("logout-close", 2, (AUTHX_CLOSE_PATH,), authenticate=False),
        Rule("portal", PORTAL_PRIORITY, ("/",), authenticate=True, hosts=(cfg.portal_host,)),
        Rule("login", 10000, (AUTHX_LOGIN_PATH,), authenticate=True),
    )


def conditions(rule: Rule) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if rule.hosts:
        found.append({"Field": "host-header", "HostHeaderConfig": {"Values": list(rule.hosts)}})
    found.append({"Field": "path-pattern", "PathPatternConfig": {"Values": list(rule.paths)}})
    return found


def actions(
    rule: Rule, group_arn: str, variables: dict[str, str], secret: str | None
) -> list[dict[str, Any]]:
    forward = {"Type": "forward", "TargetGroupArn": group_arn}
    if not rule.authenticate:
        return [{**forward, "Order": 1}]
    return [oidc.authenticate_action(variables, secret), {**forward, "Order": 2}]


# --- comparing what is with what should be -------------------------------------------------------


def _condition_shape(found: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    shape = []
    for condition in found:
        field = condition["Field"]
        config = condition.get("PathPatternConfig") or condition.get("HostHeaderConfig") or {}
        shape.append((field, tuple(sorted(config.get("Values") or condition.get("Values", [])))))
    return sorted(shape)


def _action_shape(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    shape: list[tuple[Any, ...]] = []
    for action in sorted(found, key=lambda a: a.get("Order", 0)):
        if action["Type"] == "forward":
            target = action.get("TargetGroupArn") or (
                action.get("ForwardConfig", {}).get("TargetGroups", [{}])[0].get("TargetGroupArn")
            )
            shape.append(("forward", target))
        elif action["Type"] in oidc.ACTIONS:
            shape.append(oidc.comparable(action))
        else:
            shape.append((action["Type"],))
    return shape


def _same(found: dict[str, Any], rule: Rule, wanted_actions: list[dict[str, Any]]) -> bool:
    return _condition_shape(found["Conditions"]) == _condition_shape(
        conditions(rule)
    ) and _action_shape(found["Actions"]) == _action_shape(wanted_actions)


# --- observe, plan, apply ------------------------------------------------------------------------


def _all_rules(elbv2: Any, listener_arn: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"ListenerArn": listener_arn, "PageSize": 400}
    while True:
        page = elbv2.describe_rules(**params)
        found.extend(rule for rule in page["Rules"] if not rule.get("IsDefault"))
        if not page.get("NextMarker"):
            return found
        params["Marker"] = page["NextMarker"]


def ours(elbv2: Any, cfg: StageConfig) -> dict[str, dict[str, Any]]:
    """This deployment's platform rules on the listener, by key."""
    rules = _all_rules(elbv2, cfg.listener_arn)
    mine: dict[str, dict[str, Any]] = {}
    for start in range(0, len(rules), 20):
        chunk = {rule["RuleArn"]: rule for rule in rules[start : start + 20]}
        described = elbv2.describe_tags(ResourceArns=list(chunk))["TagDescriptions"]
        for description in described:
            tags = {tag["Key"]: tag["Value"] for tag in description.get("Tags", [])}
            if all(tags.get(k) == v for k, v in cfg.tag.items()) and RULE_TAG in tags:
                mine[tags[RULE_TAG]] = chunk[description["ResourceArn"]]
    return mine


def _priority_holders(elbv2: Any, listener_arn: str) -> dict[int, str]:
    return {
        int(rule["Priority"]): rule["RuleArn"]
        for rule in _all_rules(elbv2, listener_arn)
        if str(rule.get("Priority", "")).isdigit()
    }


def ensure(
    elbv2: Any,
    secretsmanager: Any,
    report: Report,
    cfg: StageConfig,
    group_arn: str,
    rotate_client_secret: bool = False,
) -> None:
    existing = ours(elbv2, cfg)
    variables = cfg.variables
    with_secret = oidc.needs_client_secret(variables)
    secret: str | None = None

    def the_secret() -> str | None:
        nonlocal secret
        if secret is None and with_secret:
            secret = oidc.client_secret(secretsmanager, cfg.get("OIDC_CLIENT_SECRET_ARN"))
        return secret

    tags = [{"Key": k, "Value": v} for k, v in cfg.tag.items()]
    for rule in rules(cfg):
        where = " ".join((*rule.hosts, *rule.paths))
        label = f"{rule.key} (priority {rule.priority}: {where})"
        found = existing.pop(rule.key, None)
        compare = actions(rule, group_arn, variables, None)
        if found is None:
            holder = _priority_holders(elbv2, cfg.listener_arn).get(rule.priority)
            if holder:
                raise RuntimeError(
                    f"listener priority {rule.priority} is taken by {holder}, a rule mwaa-gate "
                    f"did not make; move it, then run setup again"
                )
            if report.plan:
                report.add(CREATE, KIND, label)
                continue
            elbv2.create_rule(
                ListenerArn=cfg.listener_arn,
                Priority=rule.priority,
                Conditions=conditions(rule),
                Actions=actions(
                    rule, group_arn, variables, the_secret() if rule.authenticate else None
                ),
                Tags=[*tags, {"Key": RULE_TAG, "Value": rule.key}],
            )
            report.add(CREATE, KIND, label)
            continue
        changed = []
        rotate = rotate_client_secret and rule.authenticate and with_secret
        same = _same(found, rule, compare)
        if not same or rotate:
            if not report.plan:
                elbv2.modify_rule(
                    RuleArn=found["RuleArn"],
                    Conditions=conditions(rule),
                    Actions=actions(
                        rule, group_arn, variables, the_secret() if rule.authenticate else None
                    ),
                )
            changed.append("client secret" if same else "conditions, actions")
        if str(found.get("Priority")) != str(rule.priority):
            if not report.plan:
                elbv2.set_rule_priorities(
                    RulePriorities=[{"RuleArn": found["RuleArn"], "Priority": rule.priority}]
                )
            changed.append("priority")
        report.add(UPDATE if changed else UNCHANGED, KIND, label, ", ".join(changed))
    for key, leftover in existing.items():
        if not report.plan:
            elbv2.delete_rule(RuleArn=leftover["RuleArn"])
        report.add(DELETE, KIND, f"{key} (no longer a platform rule)")


def delete(elbv2: Any, report: Report, cfg: StageConfig) -> None:
    for key, rule in ours(elbv2, cfg).items():
        elbv2.delete_rule(RuleArn=rule["RuleArn"])
        report.add(DELETE, KIND, key)
