"""`make demo`: the mwaa-gate story on the embedded AWS (devstack), one line per step.

Today it shows the foundation: devstack's server starts, a VPC is laid out, a private MWAA
environment is created and polled until AVAILABLE, its web server endpoint IPs are resolved
the way onboarding does (API, not DNS), a web login token is issued, the environment is deleted,
and everything started is stopped, also on Ctrl-C or failure. Exit 0 only if every step did
what it should.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devstack

REGION = "us-east-1"
CREATE_SECONDS = "2"


class DemoFailure(Exception):
    pass


def step(number: int, text: str) -> None:
    print(f"[{number:02d}] {text}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


def run(server: devstack.Server) -> None:
    config = Config(inject_host_prefix=False, retries={"max_attempts": 2})

    def client(service: str) -> Any:
        # The embedded AWS takes any credentials; never send a user's real ones to it.
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=server.url,
            config=config,
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",  # noqa: S106 - not a secret
        )

    ec2, mwaa = client("ec2"), client("mwaa")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="mwaa", Description="MWAA", VpcId=vpc)["GroupId"]
    step(2, f"network: {vpc}, private subnets {', '.join(subnets)}, security group {group}")

    mwaa.create_environment(
        Name="demo-analytics",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mwaa-execution",
        SourceBucketArn="arn:aws:s3:::demo-dags",
        DagS3Path="dags",
        NetworkConfiguration={"SubnetIds": subnets, "SecurityGroupIds": [group]},
        WebserverAccessMode="PRIVATE_ONLY",
    )
    status = mwaa.get_environment(Name="demo-analytics")["Environment"]["Status"]
    step(3, f"MWAA CreateEnvironment demo-analytics → {status}")
    check(status == "CREATING", f"expected CREATING, got {status}")

    deadline = time.monotonic() + 30
    polls = 0
    while status != "AVAILABLE":
        check(time.monotonic() < deadline, f"environment stuck in {status}")
        time.sleep(0.5)
        polls += 1
        status = mwaa.get_environment(Name="demo-analytics")["Environment"]["Status"]
    environment = mwaa.get_environment(Name="demo-analytics")["Environment"]
    step(4, f"AVAILABLE after {polls} polls; web server {environment['WebserverUrl']}")

    service = environment["WebserverVpcEndpointService"]
    endpoint = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "service-name", "Values": [service]},
            {"Name": "vpc-id", "Values": [vpc]},
        ]
    )["VpcEndpoints"][0]
    interfaces = ec2.describe_network_interfaces(
        NetworkInterfaceIds=endpoint["NetworkInterfaceIds"]
    )["NetworkInterfaces"]
    ips = sorted(eni["PrivateIpAddress"] for eni in interfaces)
    step(5, f"web server endpoint {endpoint['VpcEndpointId']}: IPs {', '.join(ips)}")
    check(len(ips) == 2 and all(ip.startswith("10.50.") for ip in ips), f"unexpected IPs {ips}")

    token = mwaa.create_web_login_token(Name="demo-analytics")
    step(
        6,
        f"web login token issued for {token['WebServerHostname']} "
        f"({len(token['WebToken'])} characters, not shown)",
    )
    check(token["WebServerHostname"] == environment["WebserverUrl"], "token for the wrong host")

    mwaa.delete_environment(Name="demo-analytics")
    left = mwaa.list_environments()["Environments"]
    step(7, f"MWAA DeleteEnvironment → environments left: {left or 'none'}")
    check(left == [], f"environments left behind: {left}")


def main() -> int:
    step(1, "starting the embedded AWS (moto + devstack MWAA) …")
    try:
        server = devstack.server(env={"DEVSTACK_MWAA_CREATE_SECONDS": CREATE_SECONDS})
    except RuntimeError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"     devstack at {server.url}", flush=True)
    try:
        run(server)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        print("[--] embedded AWS stopped", flush=True)
    print("demo finished: every step did what it should")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
