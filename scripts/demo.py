"""`make demo`: the whole mwaa-gate story on the embedded AWS, one line per step.

It starts devstack's server and `chalice local --stage local` against it, lays out a sample
landscape (an ALB VPC with an HTTPS listener, MWAA VPCs), runs platform setup there, then,
through the admin scripts: onboards an existing private environment (attach) and a new one
(create), waits until both are READY, grants Admin to a user and Viewer to a group, shows
`GET /access`, logs in as the ALB would (a token signed by a local ALB key service, sent to
the authX Lambda) and prints the redirect, logs out, and offboards one environment. Everything
it started is stopped on success, failure or Ctrl-C. Exit 0 only if every step did what it
should.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack import alb, landscape  # noqa: E402
from devstack.stack import LocalStack, StackFailure  # noqa: E402

CREATE_SECONDS = "3"
# What `make up` (scripts/up.py, default port) serves for its sample environment.
UP_LOGIN_URL = "http://analytics.airflow.localhost:8080/aws_mwaa/aws-console-sso"
DemoFailure = StackFailure


class Demo(LocalStack):
    """The local stack's pieces (devstack/stack.py), with numbered steps and checks."""

    def __init__(self, stack: contextlib.ExitStack):
        super().__init__(stack, create_seconds=CREATE_SECONDS)
        self.number = 0
        self.member: dict[str, Any] = {}  # the member account, once made

    # --- output ----------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.number += 1
        print(f"[{self.number:02d}] {text}", flush=True)

    @staticmethod
    def detail(text: str) -> None:
        print(f"     {text}", flush=True)

    @staticmethod
    def check(condition: bool, message: str) -> None:
        if not condition:
            raise DemoFailure(message)

    # --- the ALB side ------------------------------------------------------------------------

    def alb_request(
        self, path: str, token: str | None, host: str = "login.airflow.example.com", **query: str
    ) -> dict[str, Any]:
        headers = {"host": host}
        if token:
            headers["x-amzn-oidc-data"] = token
            headers["cookie"] = "AWSELBAuthSessionCookie-0=part0; AWSELBAuthSessionCookie-1=part1"
        event = alb.alb_event(path=path, query=query or None, headers=headers)
        response = self.client("lambda").invoke(
            FunctionName=self.authx_function, Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read())
        self.check("FunctionError" not in response, f"authX failed: {payload}")
        return payload


def header(response: dict[str, Any], name: str) -> list[str]:
    headers = response.get("multiValueHeaders") or {}
    return next((v for k, v in headers.items() if k.lower() == name), [])


def redact(location: str) -> str:
    """A login URL with its web token (after '#') replaced by its length."""
    base, _, token = location.partition("#")
    return f"{base}#<web token, {len(token)} characters, not shown>" if token else base


def story(demo: Demo) -> None:
    demo.start_devstack()
    client = demo.client

    settings = demo.build_landscape()
    alb_landscape = demo.landscape
    attach_net = landscape.environment_network(client, "10.1")
    create_net = landscape.environment_network(client, "10.2")
    demo.step(
        "landscape: ALB VPC 10.0.0.0/16 with an HTTPS listener; MWAA VPCs 10.1.0.0/16 and "
        "10.2.0.0/16 (two private subnets each)"
    )
    mwaa = client("mwaa")
    demo.create_private_environment("analytics", attach_net)
    demo.wait_available("analytics")
    demo.step("an existing private MWAA environment 'analytics' is AVAILABLE")

    report = demo.platform_setup(settings)
    demo.step(f"platform setup: {report.summary()}")
    again = demo.setup_again()
    demo.detail(f"run again: {again.summary()}")

    demo.start_chalice_local()

    record = demo.script("onboard-environment", "analytics", "--attach")
    demo.step(f"onboard-environment analytics --attach → {record['status']}")
    parameters = {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-execution",
        "SourceBucketArn": "arn:aws:s3:::reporting-dags",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": create_net["subnet_ids"],
            "SecurityGroupIds": [create_net["security_group_id"]],
        },
        "WebserverAccessMode": "PRIVATE_ONLY",
        "EnvironmentClass": "mw1.small",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(parameters, handle)
    demo.stack.callback(os.unlink, handle.name)
    record = demo.script("onboard-environment", "reporting", "--create", handle.name)
    demo.step(
        f"onboard-environment reporting --create (MWAA takes {CREATE_SECONDS} s) "
        f"→ {record['status']}"
    )

    analytics = demo.wait_for("analytics", "READY")
    reporting = demo.wait_for("reporting", "READY")
    demo.step(f"both READY: {analytics['login_url']} and {reporting['login_url']}")

    finance = member_account_environment(demo)
    rules = client("elbv2").describe_rules(ListenerArn=alb_landscape["listener_arn"])["Rules"]
    demo.detail(
        "listener rules: "
        + ", ".join(sorted((r["Priority"] for r in rules if not r["IsDefault"]), key=int))
        + " (platform: 1-2 logout, 3 portal, 10000 login → authX; per environment: 1000+n, 20000+n)"
    )

    grant = demo.script(
        "grant", "--user", "alice@example.com", "--environment", "analytics", "--role", "Admin"
    )
    demo.step(f"grant Admin on analytics to alice@example.com (grant {grant['id']})")
    grant = demo.script("grant", "--group", "data-team", "--environment", "*", "--role", "Viewer")
    demo.step(f"grant Viewer on every environment to group data-team (grant {grant['id']})")

    access = demo.script("access", "bob@example.com", "--groups", "data-team")
    demo.step(
        "access bob@example.com --groups data-team → "
        + ", ".join(f"{e['environment']}: {e['rbac_role']}" for e in access["environments"])
    )
    access = demo.script("access", "alice@example.com", "--groups", "data-team")
    roles = {e["environment"]: e["rbac_role"] for e in access["environments"]}
    demo.step(f"access alice@example.com --groups data-team → {roles}")
    demo.check(
        roles == {"analytics": "Admin", "reporting": "Viewer", "finance": "Viewer"},
        f"unexpected {roles}",
    )

    signer = alb_landscape["load_balancer_arn"]
    signing_key = demo.signing_key
    alice = alb.mint(
        signing_key, {"email": "alice@example.com", "groups": ["data-team"]}, signer=signer
    )
    response = demo.alb_request("/", alice, host=landscape.BASE_DOMAIN)
    listed = re.findall(r"<h2>([^<]+)</h2>.*?Your role: <strong>(\w+)</strong>", response["body"])
    demo.step(f"alice opens the portal https://{landscape.BASE_DOMAIN}/ → {dict(listed)}")
    demo.check(
        response["statusCode"] == 200 and dict(listed) == roles,
        f"the portal should list {roles}, not {listed}",
    )
    response = demo.alb_request(alb.LOGIN_PATH, alice, mwaa_env="analytics")
    location = (header(response, "location") or [""])[0]
    demo.step(f"alice logs in to analytics → {response['statusCode']} {redact(location)}")
    demo.check(
        response["statusCode"] == 302
        and location.startswith(
            f"https://{analytics['login_host']}/aws_mwaa/aws-console-sso?login=true#"
        ),
        f"unexpected login answer {response['statusCode']}",
    )
    response = demo.alb_request(alb.LOGIN_PATH, alice, mwaa_env="finance")
    location = (header(response, "location") or [""])[0]
    demo.step(
        f"alice logs in to finance (account {landscape.MEMBER_ACCOUNT}) → "
        f"{response['statusCode']} {redact(location)}"
    )
    demo.check(
        response["statusCode"] == 302
        and location.startswith(f"https://{finance['login_host']}/aws_mwaa/aws-console-sso?"),
        f"unexpected login answer {response['statusCode']} for finance",
    )
    bob = alb.mint(
        signing_key, {"email": "bob@example.com", "groups": ["data-team"]}, signer=signer
    )
    response = demo.alb_request(alb.LOGIN_PATH, bob, mwaa_env="reporting", rbac_role="Admin")
    demo.step(f"bob (Viewer) asks for Admin on reporting → {response['statusCode']} refused")
    demo.check(response["statusCode"] == 403, "bob should have been refused")
    forged = alb.mint(alb.SigningKey(), {"email": "mallory@example.com"}, signer=signer)
    response = demo.alb_request(alb.LOGIN_PATH, forged, mwaa_env="analytics")
    demo.step(f"a token signed with another key → {response['statusCode']}")
    demo.check(response["statusCode"] == 401, "a forged token must be refused")

    response = demo.alb_request("/logout", alice)
    expired = sorted(c.split("=", 1)[0] for c in header(response, "set-cookie"))
    demo.step(
        f"alice logs out → {response['statusCode']} to "
        f"{(header(response, 'location') or [''])[0]}; expired {', '.join(expired)}"
    )
    demo.check(response["statusCode"] == 302 and len(expired) >= 4, "logout did not expire cookies")

    record = demo.script("offboard-environment", "reporting", "--delete-environment")
    demo.step(f"offboard-environment reporting --delete-environment → {record['status']}")
    demo.wait_for("reporting", "OFFBOARDED")
    left = mwaa.list_environments()["Environments"]
    rules = client("elbv2").describe_rules(ListenerArn=alb_landscape["listener_arn"])["Rules"]
    per_environment = [
        r for r in rules if not r["IsDefault"] and int(r["Priority"]) not in (1, 2, 3, 10000)
    ]
    demo.step(
        f"reporting is gone: MWAA environments left {left}; "
        f"environment rules left {len(per_environment)}"
    )
    demo.check(
        # analytics' two rules and finance's two (another account's environment, still READY)
        left == ["analytics"] and len(per_environment) == 4,
        "offboarding left things behind",
    )
    offboard_member_environment(demo, finance)
    error = demo.script("get-environment", "nope", expect=1)
    demo.detail(f"get-environment nope → exit 1: {error.splitlines()[-1] if error else ''}")


def member_account_environment(demo: Demo) -> dict[str, Any]:
    """Another account of the organisation: it runs the member template, holds a private
    environment `finance`, which is onboarded across accounts."""
    member = landscape.member_account(demo.new_client)
    demo.step(
        f"member account {member['account_id']}: templates/member-account.yaml deployed "
        "by CloudFormation (role mwaa-gate-local-member, token roles "
        "mwaa-gate-local-airflow-<Role>); VPC 10.20.0.0/16"
    )
    mwaa = member["client"]("mwaa")
    mwaa.create_environment(
        Name="finance",
        ExecutionRoleArn=f"arn:aws:iam::{member['account_id']}:role/mwaa-execution",
        SourceBucketArn="arn:aws:s3:::finance-dags",
        DagS3Path="dags",
        NetworkConfiguration={
            "SubnetIds": member["subnet_ids"],
            "SecurityGroupIds": [member["security_group_id"]],
        },
        WebserverAccessMode="PRIVATE_ONLY",
    )
    deadline = time.monotonic() + 60
    while mwaa.get_environment(Name="finance")["Environment"]["Status"] != "AVAILABLE":
        demo.check(time.monotonic() < deadline, "finance did not become AVAILABLE")
        time.sleep(0.2)
    record = demo.script(
        "onboard-environment", "finance", "--attach", "--account", member["account_id"]
    )
    demo.step(f"onboard-environment finance --attach --account {member['account_id']}")
    demo.detail(f"→ {record['status']}")
    finance = demo.wait_for("finance", "READY")
    peering = demo.client("ec2").describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[finance["peering_connection_id"]]
    )["VpcPeeringConnections"][0]
    requester, accepter = peering["RequesterVpcInfo"], peering["AccepterVpcInfo"]
    demo.detail(
        f"peering {peering['VpcPeeringConnectionId']} {peering['Status']['Code']}: requested by "
        f"{requester['OwnerId']} ({requester['VpcId']}), accepted by {accepter['OwnerId']} "
        f"({accepter['VpcId']})"
    )
    ingress = [
        r
        for r in member["client"]("ec2").describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [member["security_group_id"]]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    demo.detail(
        "member security group allows 443 from "
        + ", ".join(r["ReferencedGroupInfo"]["GroupId"] for r in ingress)
        + f" (the ALB's, account {requester['OwnerId']}); targets {finance['endpoint_ips']}"
    )
    demo.check(
        accepter["OwnerId"] == member["account_id"] and len(ingress) == 1,
        "the member account was not connected",
    )
    demo.member = member
    return finance


def offboard_member_environment(demo: Demo, finance: dict[str, Any]) -> None:
    member = demo.member
    record = demo.script("offboard-environment", "finance")
    demo.step(f"offboard-environment finance → {record['status']}")
    demo.wait_for("finance", "OFFBOARDED")
    ec2 = member["client"]("ec2")
    live = [
        p["VpcPeeringConnectionId"]
        for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] not in ("deleted", "rejected", "failed")
    ]
    ingress = [
        r
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [member["security_group_id"]]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    routes = [
        route
        for table in ec2.describe_route_tables(RouteTableIds=member["route_table_ids"])[
            "RouteTables"
        ]
        for route in table["Routes"]
        if route.get("VpcPeeringConnectionId")
    ]
    demo.detail(
        f"left in account {member['account_id']}: peerings {live}, ingress rules "
        f"{len(ingress)}, peering routes {len(routes)}"
    )
    demo.check(not live and not ingress and not routes, "offboarding left things behind")


def main() -> int:
    with contextlib.ExitStack() as stack:
        demo = Demo(stack)
        try:
            story(demo)
        except KeyboardInterrupt:
            print("interrupted: stopping everything", file=sys.stderr, flush=True)
            return 130
        except DemoFailure as failure:
            print(f"FAILED: {failure}", file=sys.stderr, flush=True)
            return 1
        except Exception as error:
            print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return 1
        finally:
            print(
                "[--] stopping chalice local, the ALB key service and the embedded AWS", flush=True
            )
    print("demo finished: every step did what it should")
    print(
        "To sign in from your own browser: run `make up`, then open "
        f"{UP_LOGIN_URL} (choose alice@example.com at the dev IdP).",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
