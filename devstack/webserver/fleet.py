"""Which stand-in answers at an IP address: the environment whose web server VPC endpoint
holds that address (its network interfaces are tagged `aws:mwaa:environment` by devstack's
MWAA), looked up in devstack's EC2 and MWAA on every request, so a deleted environment's
addresses lead nowhere. One stand-in per environment, started on first use."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .standin import WebServer, redeem_over_http

ENVIRONMENT_TAG = "aws:mwaa:environment"
ACCOUNT = "123456789012"


class Fleet:
    def __init__(self, aws_url: str, region: str = "us-east-1", account: str = ACCOUNT):
        self.aws_url = aws_url
        self.region = region
        self.account = account
        session = boto3.session.Session(
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",  # noqa: S106 - devstack takes any
            region_name=region,
        )
        config = Config(inject_host_prefix=False, retries={"max_attempts": 2})
        self._ec2 = session.client("ec2", endpoint_url=aws_url, config=config)
        self._mwaa = session.client("mwaa", endpoint_url=aws_url, config=config)
        self.servers: dict[str, WebServer] = {}
        self._lock = threading.Lock()

    def environment_at(self, ip: str) -> str | None:
        found = self._ec2.describe_network_interfaces(
            Filters=[{"Name": "addresses.private-ip-address", "Values": [ip]}]
        )["NetworkInterfaces"]
        for interface in found:
            tags = {t["Key"]: t["Value"] for t in interface.get("TagSet", [])}
            if tags.get(ENVIRONMENT_TAG):
                return tags[ENVIRONMENT_TAG]
        return None

    def lookup(self, ip: str, port: int) -> tuple[str, int] | None:
        """The local address of the stand-in for `ip:port` (MWAA serves HTTPS on 443)."""
        if port != 443:
            return None
        name = self.environment_at(ip)
        if name is None:
            return None
        try:
            environment: dict[str, Any] = self._mwaa.get_environment(Name=name)["Environment"]
        except ClientError:
            return None
        version = environment.get("AirflowVersion", "")
        with self._lock:
            server = self.servers.get(name)
            if server is not None and server.airflow_version != version:  # upgraded in place
                server.stop()
                server = None
            if server is None:
                server = WebServer(
                    name, version, redeem_over_http(self.aws_url, self.region, self.account)
                )
                self.servers[name] = server
            return server.address

    def stop(self) -> None:
        with self._lock:
            for server in self.servers.values():
                server.stop()
            self.servers.clear()
