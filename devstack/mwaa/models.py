"""State of the devstack MWAA backend: environments, their lifecycle and their VPC endpoints.

Follows the MWAA API (botocore's `mwaa` model). Lifecycle transitions are applied lazily on
every read, from timestamps, so no thread runs behind the backend:

    CREATING --(DEVSTACK_MWAA_CREATE_SECONDS)--> AVAILABLE | CREATE_FAILED | UNAVAILABLE | PENDING
    UPDATING --(DEVSTACK_MWAA_UPDATE_SECONDS)--> AVAILABLE
    DELETING --(DEVSTACK_MWAA_DELETE_SECONDS)--> gone (GetEnvironment: ResourceNotFoundException)

A test chooses how a creation ends with the tag `devstack:create-outcome` (`CREATE_FAILED`,
`UNAVAILABLE`) and the web server's domain with `devstack:webserver-domain` (`amazonaws.com`,
the default, or `on.aws` as MWAA gives environments created since August 2025); a
`PRIVATE_ONLY` environment with `EndpointManagement=CUSTOMER` ends `PENDING`
(MWAA waits for the customer's endpoints). With `SERVICE` endpoint management (the default) a
`PRIVATE_ONLY` environment gets an interface VPC endpoint for its web server (and one for its
database) in its VPC, one network interface per subnet, addresses inside those subnets.

`AirflowVersion` is honoured on create and on update: a change of major version is accepted as
MWAA accepts it in place, between the latest 2.11.x and 3.x either way (older 2.x move to a new
environment), and passes through UPDATING like any update.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.common_models import BaseModel
from moto.ec2.models import ec2_backends
from moto.sts.models import sts_backends

from .exceptions import AccessDeniedException, ResourceNotFoundException, ValidationException

CREATE_OUTCOME_TAG = "devstack:create-outcome"
CREATE_OUTCOMES = ("AVAILABLE", "CREATE_FAILED", "UNAVAILABLE")
WEBSERVER_DOMAIN_TAG = "devstack:webserver-domain"
WEBSERVER_DOMAINS = ("amazonaws.com", "on.aws")

NAME_PATTERN = re.compile(r"[a-zA-Z][0-9a-zA-Z\-_]*")
IAM_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
S3_BUCKET_ARN = re.compile(r"arn:aws(-[a-z]+)?:s3:::[a-z0-9.\-]+")
ENV_ARN = re.compile(r"arn:aws(-[a-z]+)?:airflow:([a-z0-9\-]+):(\d{12}):environment/(.+)")
ENVIRONMENT_CLASSES = (
    "mw1.micro",
    "mw1.small",
    "mw1.medium",
    "mw1.large",
    "mw1.xlarge",
    "mw1.2xlarge",
)
AIRFLOW_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6")
# In-place major upgrades and downgrades: only between these (MWAA's latest 2.x and 3.x).
MAJOR_SWITCH_FROM_2 = ("2.11.0",)
DEFAULT_AIRFLOW_VERSION = "2.10.3"
ACCESS_MODES = ("PRIVATE_ONLY", "PUBLIC_ONLY", "PUBLIC_AND_PRIVATE")
ENDPOINT_MANAGEMENT = ("SERVICE", "CUSTOMER")
# MWAA refuses Airflow roles it does not know; these are the ones it maps IAM resources to.
AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
MAX_RESULTS = 25
# A web login token opens one web server session, once, within a minute (MWAA's documented
# lifetime of the token that CreateWebLoginToken returns).
WEB_TOKEN_SECONDS = 60.0


def _delay(variable: str) -> float:
    """Seconds a transition takes, from the environment at the time of the request."""
    try:
        return max(0.0, float(os.environ.get(variable, "0") or 0))
    except ValueError:
        return 0.0


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationException(message)


class Environment(BaseModel):
    def __init__(self, backend: MWAABackend, params: dict[str, Any]):
        self.backend = backend
        self.name: str = params["Name"]
        self.arn = (
            f"arn:aws:airflow:{backend.region_name}:{backend.account_id}:environment/{self.name}"
        )
        self.created_at = time.time()
        self.params = {k: v for k, v in params.items() if k not in ("Name", "Tags")}
        self.params.setdefault("AirflowVersion", DEFAULT_AIRFLOW_VERSION)
        self.params.setdefault("EnvironmentClass", "mw1.small")
        self.params.setdefault("MaxWorkers", 10)
        self.params.setdefault("MinWorkers", 1)
        self.params.setdefault("Schedulers", 2)
        self.params.setdefault("WebserverAccessMode", "PRIVATE_ONLY")
        self.params.setdefault("EndpointManagement", "SERVICE")
        self.params.setdefault("WeeklyMaintenanceWindowStart", "SUN:03:30")
        self.tags: dict[str, str] = dict(params.get("Tags") or {})
        self.status = "CREATING"
        self.transition_at = self.created_at + _delay("DEVSTACK_MWAA_CREATE_SECONDS")
        self.last_update: dict[str, Any] = {
            "Status": "PENDING",
            "CreatedAt": self.created_at,
            "Source": "CREATE",
        }
        cell = f"c{secrets.randbelow(40) + 1}"
        access = self.params["WebserverAccessMode"]
        suffix = "-vpce" if access == "PRIVATE_ONLY" else ""
        domain = self.tags.get(WEBSERVER_DOMAIN_TAG, "amazonaws.com")
        self.webserver_hostname = (
            f"{uuid.uuid4()}{suffix}.{cell}.{backend.region_name}.airflow.{domain}"
        )
        self.webserver_endpoint_service = self._service_name()
        self.database_endpoint_service = self._service_name()
        self.endpoint_ids: list[str] = []
        self.deleted = False
        self._make_endpoints()

    # --- lifecycle -----------------------------------------------------------------------

    def _service_name(self) -> str:
        return f"com.amazonaws.vpce.{self.backend.region_name}.vpce-svc-{secrets.token_hex(9)[:17]}"

    def refresh(self, now: float) -> None:
        """Apply the transition that is due, if any."""
        if now < self.transition_at:
            return
        if self.status == "CREATING":
            outcome = self.tags.get(CREATE_OUTCOME_TAG, "AVAILABLE")
            if outcome == "AVAILABLE" and self._customer_managed_private():
                self.status = "PENDING"
                return
            self.status = outcome
            if outcome == "AVAILABLE":
                self.last_update.update({"Status": "SUCCESS"})
            else:
                self.last_update.update(
                    {
                        "Status": "FAILED",
                        "Error": {
                            "ErrorCode": "INCORRECT_CONFIGURATION",
                            "ErrorMessage": (
                                "Amazon MWAA could not create the environment: its execution "
                                "role cannot reach the source bucket (devstack simulated failure)."
                            ),
                        },
                    }
                )
                self._remove_endpoints()
        elif self.status == "UPDATING":
            self.status = "AVAILABLE"
            self.last_update.update({"Status": "SUCCESS"})
        elif self.status == "DELETING":
            self._remove_endpoints()
            self.deleted = True

    def _customer_managed_private(self) -> bool:
        return (
            self.params["WebserverAccessMode"] == "PRIVATE_ONLY"
            and self.params["EndpointManagement"] == "CUSTOMER"
        )

    def start_update(self, changes: dict[str, Any]) -> None:
        network = changes.pop("NetworkConfiguration", None)
        self.params.update(changes)
        if network is not None:
            self.params["NetworkConfiguration"] = {
                **self.params["NetworkConfiguration"],
                "SecurityGroupIds": list(network["SecurityGroupIds"]),
            }
        now = time.time()
        self.status = "UPDATING"
        self.transition_at = now + _delay("DEVSTACK_MWAA_UPDATE_SECONDS")
        self.last_update = {"Status": "PENDING", "CreatedAt": now, "Source": "UPDATE"}

    def start_delete(self) -> None:
        self.status = "DELETING"
        self.transition_at = time.time() + _delay("DEVSTACK_MWAA_DELETE_SECONDS")

    # --- network -------------------------------------------------------------------------

    @property
    def subnet_ids(self) -> list[str]:
        return list(self.params["NetworkConfiguration"]["SubnetIds"])

    @property
    def security_group_ids(self) -> list[str]:
        return list(self.params["NetworkConfiguration"]["SecurityGroupIds"])

    def _make_endpoints(self) -> None:
        """MWAA's own interface endpoints: database always, web server when private."""
        if self.params["EndpointManagement"] != "SERVICE":
            return
        services = [self.database_endpoint_service]
        if self.params["WebserverAccessMode"] == "PRIVATE_ONLY":
            services.insert(0, self.webserver_endpoint_service)
        ec2 = self.backend.ec2
        vpc_id = ec2.get_subnet(self.subnet_ids[0]).vpc_id
        for service in services:
            endpoint = ec2.create_vpc_endpoint(
                vpc_id=vpc_id,
                service_name=service,
                endpoint_type="Interface",
                policy_document=None,
                route_table_ids=[],
                subnet_ids=self.subnet_ids,
                security_group_ids=self.security_group_ids,
                tags={"aws:mwaa:environment": self.name},
                private_dns_enabled=False,
            )
            for eni_id in endpoint.network_interface_ids:
                self._place_in_subnet(ec2.get_network_interface(eni_id), endpoint.id)
            self.endpoint_ids.append(endpoint.id)

    def _place_in_subnet(self, eni: Any, endpoint_id: str) -> None:
        """Give an endpoint's ENI a free address inside its own subnet (moto picks any 10.x)."""
        subnet = eni.subnet
        network = ipaddress.ip_network(subnet.cidr_block)
        used = {
            other.private_ip_address
            for other in self.backend.ec2.enis.values()
            if other is not eni and other.subnet is not None and other.subnet.id == subnet.id
        }
        # AWS reserves the first four addresses and the last one of every subnet.
        hosts = list(network.hosts())[3:-1] or list(network.hosts())
        free = [str(ip) for ip in hosts if str(ip) not in used]
        if not free:
            raise ValidationException(f"Subnet {subnet.id} has no free IP addresses.")
        address = free[secrets.randbelow(len(free))]
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        eni.private_dns_name = f"ip-{address.replace('.', '-')}.ec2.internal"
        eni.description = f"VPC Endpoint Interface {endpoint_id}"
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True
        eni.add_tags({"aws:mwaa:environment": self.name})
        if self.security_group_ids:
            eni._group_set = [
                self.backend.ec2.get_security_group_from_id(sg) for sg in self.security_group_ids
            ]

    def replace_webserver_addresses(self) -> list[str]:
        """What MWAA's maintenance may do: the web server endpoint's interfaces get new private
        addresses (tests use it to move the IPs under a READY environment); the new addresses."""
        ec2 = self.backend.ec2
        moved = []
        for endpoint_id in self.endpoint_ids:
            endpoint = ec2.vpc_end_points.get(endpoint_id)
            if endpoint is None or endpoint.service_name != self.webserver_endpoint_service:
                continue
            for eni_id in endpoint.network_interface_ids:
                eni = ec2.get_network_interface(eni_id)
                before = eni.private_ip_address
                while eni.private_ip_address == before:
                    self._place_in_subnet(eni, endpoint_id)
                moved.append(eni.private_ip_address)
        return moved

    def _remove_endpoints(self) -> None:
        ec2 = self.backend.ec2
        if self.endpoint_ids:
            for endpoint_id in self.endpoint_ids:
                endpoint = ec2.vpc_end_points.get(endpoint_id)
                if endpoint is None:
                    continue
                for eni_id in endpoint.network_interface_ids:
                    ec2.enis.pop(eni_id, None)
            ec2.delete_vpc_endpoints(self.endpoint_ids)
            for endpoint_id in self.endpoint_ids:
                ec2.vpc_end_points.pop(endpoint_id, None)
        self.endpoint_ids = []

    # --- views ---------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        params = self.params
        region, account = self.backend.region_name, self.backend.account_id
        logging = {
            module: {
                "Enabled": bool(cfg.get("Enabled")),
                "LogLevel": cfg.get("LogLevel", "INFO"),
                **(
                    {
                        "CloudWatchLogGroupArn": f"arn:aws:logs:{region}:{account}:log-group:"
                        f"airflow-{self.name}-{module.removesuffix('Logs')}"
                    }
                    if cfg.get("Enabled")
                    else {}
                ),
            }
            for module, cfg in (params.get("LoggingConfiguration") or {}).items()
        }
        view: dict[str, Any] = {
            **{k: v for k, v in params.items() if k != "LoggingConfiguration"},
            "Name": self.name,
            "Arn": self.arn,
            "Status": self.status,
            "CreatedAt": self.created_at,
            "WebserverUrl": self.webserver_hostname,
            "ServiceRoleArn": (
                f"arn:aws:iam::{account}:role/aws-service-role/airflow.amazonaws.com/"
                "AWSServiceRoleForAmazonMWAA"
            ),
            "LastUpdate": dict(self.last_update),
            "Tags": dict(self.tags),
            "DatabaseVpcEndpointService": self.database_endpoint_service,
        }
        if logging:
            view["LoggingConfiguration"] = logging
        if params["WebserverAccessMode"] == "PRIVATE_ONLY":
            view["WebserverVpcEndpointService"] = self.webserver_endpoint_service
        return view


class MWAABackend(BaseBackend):
    """One account and region of MWAA."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.environments: dict[str, Environment] = {}
        # What CreateWebLoginToken handed out, for tests to inspect (never the token itself).
        self.web_logins: list[dict[str, str]] = []
        # SHA-256 of each issued token → what it was issued for; a web server redeems it once.
        self._web_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    @property
    def ec2(self) -> Any:
        return ec2_backends[self.account_id][self.region_name]

    # --- helpers -------------------------------------------------------------------------

    def _visible(self, name: str) -> Environment:
        _validate_name(name)
        now = time.time()
        env = self.environments.get(name)
        if env is not None:
            env.refresh(now)
            if env.deleted:
                del self.environments[name]
                env = None
        if env is None:
            raise ResourceNotFoundException(f"Environment {name} not found.")
        return env

    def _all(self) -> list[Environment]:
        return [env for name in sorted(self.environments) if (env := self._maybe(name))]

    def _maybe(self, name: str) -> Environment | None:
        try:
            return self._visible(name)
        except ResourceNotFoundException:
            return None

    def _by_arn(self, arn: str) -> Environment:
        match = ENV_ARN.fullmatch(arn or "")
        _require(match is not None, f"Invalid ResourceArn: {arn}")
        assert match is not None
        if match.group(2) != self.region_name or match.group(3) != self.account_id:
            raise ResourceNotFoundException(f"Resource {arn} not found.")
        return self._visible(match.group(4))

    # --- operations ----------------------------------------------------------------------

    def create_environment(self, params: dict[str, Any]) -> str:
        with self._lock:
            name = params.get("Name")
            _validate_name(name)
            if self._maybe(name) is not None:
                raise ValidationException(f"Environment {name} already exists.")
            self._validate_create(params)
            env = Environment(self, params)
            self.environments[name] = env
            return env.arn

    def get_environment(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._visible(name).describe()

    def list_environments(
        self, max_results: int | None, next_token: str | None
    ) -> tuple[list[str], str | None]:
        with self._lock:
            limit = MAX_RESULTS if max_results is None else int(max_results)
            _require(1 <= limit <= MAX_RESULTS, "MaxResults must be between 1 and 25.")
            names = [env.name for env in self._all()]
            start = 0
            if next_token:
                _require(next_token in names, "Invalid NextToken.")
                start = names.index(next_token)
            page = names[start : start + limit]
            following = names[start + limit] if start + limit < len(names) else None
            return page, following

    def update_environment(self, params: dict[str, Any]) -> str:
        with self._lock:
            env = self._visible(params.get("Name"))
            if env.status not in ("AVAILABLE", "UPDATE_FAILED"):
                raise ValidationException(
                    f"Environment {env.name} is {env.status}; it can be updated only when "
                    "AVAILABLE or UPDATE_FAILED."
                )
            changes = {k: v for k, v in params.items() if k != "Name" and v is not None}
            _require(bool(changes), "UpdateEnvironment needs at least one change.")
            self._validate_common(changes)
            if "AirflowVersion" in changes:
                _validate_version_change(env.params["AirflowVersion"], changes["AirflowVersion"])
            network = changes.get("NetworkConfiguration")
            if network is not None:
                self._validate_security_groups(network.get("SecurityGroupIds"), env.subnet_ids)
            env.start_update(changes)
            return env.arn

    def delete_environment(self, name: str) -> None:
        with self._lock:
            env = self._visible(name)
            if env.status in ("CREATING", "UPDATING", "DELETING"):
                raise ValidationException(
                    f"Environment {name} is {env.status} and cannot be deleted now."
                )
            env.start_delete()

    def create_web_login_token(self, name: str, access_key: str) -> dict[str, str]:
        with self._lock:
            env = self._visible(name)
            _require_available(env)
            iam_identity, airflow_role = self._airflow_role_of_caller(env, access_key)
            self.web_logins.append(
                {"environment": env.name, "iam_identity": iam_identity, "role": airflow_role}
            )
            token = secrets.token_urlsafe(96)
            airflow_identity = f"{airflow_role.lower()}:{iam_identity}"[:64]
            self._web_tokens[_digest(token)] = {
                "environment": env.name,
                "role": airflow_role,
                "iam_identity": iam_identity,
                "airflow_identity": airflow_identity,
                "issued_at": time.time(),
                "used": False,
            }
            return {
                "WebToken": token,
                "WebServerHostname": env.webserver_hostname,
                "IamIdentity": iam_identity,
                "AirflowIdentity": airflow_identity,
            }

    def redeem_web_login_token(self, name: str, token: str, now: float | None = None) -> dict:
        """What the environment's web server does with a posted token: valid once, for
        `WEB_TOKEN_SECONDS`, on the environment it was issued for. Not an MWAA API operation:
        devstack's web server stand-ins call it (see devstack/webserver)."""
        with self._lock:
            env = self._visible(name)
            now = time.time() if now is None else now
            issued = self._web_tokens.get(_digest(token or ""))
            if issued is None or not hmac.compare_digest(issued["environment"], env.name):
                raise AccessDeniedException("The web login token is not valid here.")
            if issued["used"]:
                raise AccessDeniedException("The web login token was used already.")
            if now - issued["issued_at"] > WEB_TOKEN_SECONDS:
                raise AccessDeniedException("The web login token has expired.")
            issued["used"] = True
            return {
                "Environment": env.name,
                "AirflowVersion": env.params["AirflowVersion"],
                "RbacRole": issued["role"],
                "IamIdentity": issued["iam_identity"],
                "AirflowIdentity": issued["airflow_identity"],
            }

    def create_cli_token(self, name: str, access_key: str) -> dict[str, str]:
        with self._lock:
            env = self._visible(name)
            _require_available(env)
            self._airflow_role_of_caller(env, access_key)
            return {
                "CliToken": secrets.token_urlsafe(96),
                "WebServerHostname": env.webserver_hostname,
            }

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        with self._lock:
            env = self._by_arn(arn)
            _validate_tags(tags, required=True)
            _require(len({**env.tags, **tags}) <= 50, "An environment has at most 50 tags.")
            env.tags.update(tags)

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        with self._lock:
            env = self._by_arn(arn)
            for key in keys:
                env.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> dict[str, str]:
        with self._lock:
            return dict(self._by_arn(arn).tags)

    # --- validation ----------------------------------------------------------------------

    def _validate_create(self, params: dict[str, Any]) -> None:
        for field in ("ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "NetworkConfiguration"):
            _require(params.get(field) is not None, f"{field} is required.")
        self._validate_common(params)
        network = params["NetworkConfiguration"]
        _require(isinstance(network, dict), "NetworkConfiguration must be an object.")
        subnets = network.get("SubnetIds")
        _require(
            isinstance(subnets, list) and len(subnets) == 2,
            "NetworkConfiguration.SubnetIds must list exactly 2 subnets.",
        )
        _require(
            len(set(subnets)) == 2, "NetworkConfiguration.SubnetIds must be 2 different subnets."
        )
        found = []
        for subnet_id in subnets:
            try:
                found.append(self.ec2.get_subnet(subnet_id))
            except Exception as error:  # moto raises its own EC2 error type
                raise ValidationException(f"Subnet {subnet_id} does not exist.") from error
        _require(
            found[0].vpc_id == found[1].vpc_id,
            "NetworkConfiguration.SubnetIds must belong to the same VPC.",
        )
        _require(
            found[0].availability_zone != found[1].availability_zone,
            "NetworkConfiguration.SubnetIds must be in 2 different Availability Zones.",
        )
        self._validate_security_groups(network.get("SecurityGroupIds"), subnets)
        _validate_tags(params.get("Tags"), required=False)
        outcome = (params.get("Tags") or {}).get(CREATE_OUTCOME_TAG)
        _require(
            outcome is None or outcome in CREATE_OUTCOMES,
            f"Tag {CREATE_OUTCOME_TAG} must be one of {', '.join(CREATE_OUTCOMES)}.",
        )
        domain = (params.get("Tags") or {}).get(WEBSERVER_DOMAIN_TAG)
        _require(
            domain is None or domain in WEBSERVER_DOMAINS,
            f"Tag {WEBSERVER_DOMAIN_TAG} must be one of {', '.join(WEBSERVER_DOMAINS)}.",
        )

    def _validate_security_groups(self, groups: Any, subnet_ids: list[str]) -> None:
        _require(
            isinstance(groups, list) and 1 <= len(groups) <= 5,
            "NetworkConfiguration.SecurityGroupIds must list 1 to 5 security groups.",
        )
        vpc_id = self.ec2.get_subnet(subnet_ids[0]).vpc_id
        for group_id in groups:
            group = self.ec2.get_security_group_from_id(group_id)
            _require(group is not None, f"Security group {group_id} does not exist.")
            _require(
                group.vpc_id == vpc_id,
                f"Security group {group_id} is not in the VPC of the subnets ({vpc_id}).",
            )

    def _validate_common(self, params: dict[str, Any]) -> None:
        checks = (
            ("ExecutionRoleArn", IAM_ROLE_ARN),
            ("SourceBucketArn", S3_BUCKET_ARN),
        )
        for field, pattern in checks:
            value = params.get(field)
            if value is not None:
                _require(
                    isinstance(value, str) and pattern.fullmatch(value) is not None,
                    f"{field} is not a valid ARN: {value!r}.",
                )
        enums = (
            ("WebserverAccessMode", ACCESS_MODES),
            ("EndpointManagement", ENDPOINT_MANAGEMENT),
            ("EnvironmentClass", ENVIRONMENT_CLASSES),
            ("AirflowVersion", AIRFLOW_VERSIONS),
        )
        for field, allowed in enums:
            value = params.get(field)
            if value is not None:
                _require(value in allowed, f"{field} must be one of {', '.join(allowed)}.")
        for field in ("MinWorkers", "MaxWorkers", "MinWebservers", "MaxWebservers"):
            value = params.get(field)
            if value is not None:
                _require(isinstance(value, int) and value >= 1, f"{field} must be at least 1.")
        low, high = params.get("MinWorkers"), params.get("MaxWorkers")
        if isinstance(low, int) and isinstance(high, int):
            _require(low <= high, "MinWorkers must not exceed MaxWorkers.")
        schedulers = params.get("Schedulers")
        if schedulers is not None:
            _require(
                isinstance(schedulers, int) and 0 <= schedulers <= 5,
                "Schedulers must be between 0 and 5.",
            )

    # --- authorisation -------------------------------------------------------------------

    def _airflow_role_of_caller(self, env: Environment, access_key: str) -> tuple[str, str]:
        """Which Airflow role the caller's credentials may log in as, the way MWAA decides.

        MWAA maps `airflow:CreateWebLoginToken` on `arn:aws:airflow:<r>:<a>:role/<env>/<Role>`
        to the Airflow role. For an assumed-role session with a session policy, the policy must
        allow one of those resources; the most powerful allowed role is used. Other callers
        (moto's default credentials) are treated as Admin, as an account root would be.
        """
        session = _assumed_role_session(self.account_id, access_key)
        if session is None:
            return f"user/{access_key or 'anonymous'}", "Admin"
        role_name = session.role_arn.split("/")[-1]
        iam_identity = f"assumed-role/{role_name}/{session.session_name}"
        policy = getattr(session, "policy", None)
        if not policy:
            return iam_identity, "Admin"
        for role in AIRFLOW_ROLES:
            resource = (
                f"arn:aws:airflow:{self.region_name}:{self.account_id}:role/{env.name}/{role}"
            )
            if _policy_allows(policy, "airflow:CreateWebLoginToken", resource):
                return iam_identity, role
        raise AccessDeniedException(
            f"{iam_identity} is not authorized to perform airflow:CreateWebLoginToken "
            f"on environment {env.name}."
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _validate_name(name: Any) -> None:
    _require(
        isinstance(name, str) and 1 <= len(name) <= 80 and NAME_PATTERN.fullmatch(name) is not None,
        f"Invalid environment name {name!r}: 1 to 80 characters, a letter first, then letters, "
        "digits, '-' or '_'.",
    )


def _validate_version_change(current: str, wanted: str) -> None:
    """Same major: any listed version. Another major: only 2.11.x ↔ 3.x, as MWAA does in place."""
    before, after = current.split(".")[0], wanted.split(".")[0]
    if before == after:
        return
    switch = {before, after} == {"2", "3"} and (
        current in MAJOR_SWITCH_FROM_2 or wanted in MAJOR_SWITCH_FROM_2
    )
    _require(
        switch,
        f"Cannot change AirflowVersion from {current} to {wanted} in place: only "
        f"{', '.join(MAJOR_SWITCH_FROM_2)} and 3.x switch major version; create a new environment.",
    )


def _validate_tags(tags: Any, *, required: bool) -> None:
    if tags is None and not required:
        return
    _require(isinstance(tags, dict) and 1 <= len(tags) <= 50, "Tags must map 1 to 50 keys.")
    for key, value in tags.items():
        _require(isinstance(key, str) and 1 <= len(key) <= 128, f"Invalid tag key {key!r}.")
        _require(
            isinstance(value, str) and 1 <= len(value) <= 256, f"Invalid tag value for {key!r}."
        )
        _require(not key.lower().startswith("aws:"), "Tag keys must not start with 'aws:'.")


def _require_available(env: Environment) -> None:
    if env.status != "AVAILABLE":
        raise ValidationException(
            f"Environment {env.name} is {env.status}; tokens are issued only when AVAILABLE."
        )


def _assumed_role_session(account_id: str, access_key: str) -> Any:
    if not access_key:
        return None
    return sts_backends[account_id]["aws"].get_assumed_role_from_access_key(access_key)


def _policy_allows(policy: str | dict[str, Any], action: str, resource: str) -> bool:
    """Tiny IAM evaluation: explicit Deny wins, else any matching Allow."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if _matches(statement.get("Action", []), action, ignore_case=True) and _matches(
            statement.get("Resource", []), resource, ignore_case=False
        ):
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


def _matches(patterns: str | list[str], value: str, *, ignore_case: bool) -> bool:
    if isinstance(patterns, str):
        patterns = [patterns]
    if ignore_case:
        return any(fnmatch.fnmatch(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


mwaa_backends = BackendDict(MWAABackend, "mwaa")
