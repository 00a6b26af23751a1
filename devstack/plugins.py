"""What devstack adds to moto, installed once per process (idempotent).

- `moto.mwaa`: the MWAA backend, registered in moto's backend index so that both the in-process
  mock and moto's server route `airflow` requests to it.
- In-process Lambda: moto's Lambda `invoke` runs a registered Chalice function (see lambdas.py)
  before it would look for a deployed function.
- Step Functions: an aws-sdk task's error is `<Service>.<Exception>` with the service in
  PascalCase (`Mwaa.ResourceNotFoundException`); moto knows only a few services' spelling.
- EC2: DescribeVpcPeeringConnections honours its filters (moto ignores them all): ids,
  `status-code`, requester/accepter VPC and CIDR, tags.
- ELBv2: an IP target keeps its `AvailabilityZone` (moto drops it), and, as in AWS, an IP
  outside the target group's VPC must be registered in zone `all`.
- STS: moto's AssumeRole drops `SourceIdentity`; devstack validates and keeps it on the
  assumed-role session, as STS does, so tests can check what a caller asked for. And moto
  issues credentials for a role that does not exist; STS answers `AccessDenied`, so an account
  that has not run the member template fails here as it will in AWS (the trust policy itself is
  not evaluated).
- EC2: a security-group rule whose source is a group of another account (`UserIdGroupPairs`
  with that account's `UserId`) is looked up in that account, across an active VPC peering in
  the region, as AWS does; moto looks only in the caller's account (`InvalidGroup.NotFound`).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

_INSTALLED = False
_LOCK = threading.Lock()
MWAA_URL = re.compile(r"https?://(?:api\.|env\.|ops\.)?airflow\.(.+)\.amazonaws\.com")
SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/.+")


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _register_mwaa()
        _patch_lambda_invoke()
        _refuse_assuming_missing_roles()
        _patch_sts_source_identity()  # wraps the above: parameters are checked first, as in STS
        _reference_groups_across_accounts()
        _name_sdk_errors_like_step_functions()
        _patch_elbv2_ip_targets()
        _filter_vpc_peering_connections()
        _INSTALLED = True


def _register_mwaa() -> None:
    import moto.backend_index as backend_index

    from devstack import mwaa

    sys.modules["moto.mwaa"] = mwaa
    if not any(service == "mwaa" for service, _ in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.insert(0, ("mwaa", MWAA_URL))


def _patch_lambda_invoke() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    # moto uses LambdaSimpleBackend when Docker is off (devstack's setting), LambdaBackend else.
    for backend_class in (LambdaBackend, LambdaSimpleBackend):
        backend_class.invoke = _dispatching_invoke(backend_class.invoke)


def _dispatching_invoke(original: Any) -> Any:
    from devstack.lambdas import dispatcher, run_handler

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        target = dispatcher.resolve(function_name)
        if target is not None:
            project, function = target
            arn = (
                f"arn:aws:lambda:{self.region_name}:{self.account_id}:function:"
                f"{project.deployed_name(function.name)}"
            )
            payload, errored = dispatcher.invoke(project, function, body, arn)
        else:
            # Like Lambda: an unknown function is ResourceNotFoundException (moto's Docker-less
            # backend would answer 200 and echo the payload, hiding a wrong ARN).
            deployed = self.get_function(function_name, qualifier)
            code = dispatcher.handler_for(deployed.handler)
            if code is None:
                return original(self, function_name, qualifier, body, headers, response_headers)
            project, handler = code
            environment = {**(deployed.environment_vars or {}), **project.extra_env}
            payload, errored = run_handler(
                handler, body, deployed.function_name, deployed.function_arn, environment
            )
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = "$LATEST"
        response_headers["Content-Length"] = str(len(payload))
        return payload

    return invoke


def _patch_sts_source_identity() -> None:
    from moto.sts.exceptions import STSValidationError
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        source_identity = self._get_param("SourceIdentity")
        if source_identity is not None and not SOURCE_IDENTITY.fullmatch(source_identity):
            raise STSValidationError(
                "1 validation error detected: Value at 'sourceIdentity' failed to satisfy "
                "constraint: Member must have length between 2 and 64 and match "
                "[\\w+=,.@-]*"
            )
        result = original(self)
        result.result["Credentials"].source_identity = source_identity
        return result

    TokenResponse.assume_role = assume_role


def _refuse_assuming_missing_roles() -> None:
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.models import iam_backends
    from moto.sts.responses import TokenResponse
    from moto.utilities.utils import get_partition

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role_arn = self._get_param("RoleArn") or ""
        match = ROLE_ARN.fullmatch(role_arn)
        if match is not None:
            partition = get_partition(self.region)
            try:
                iam_backends[match.group(1)][partition].get_role_by_arn(role_arn)
            except Exception:  # moto's IAM NotFoundException: no such role in that account
                caller = self.backend.get_caller_identity(self.get_access_key(), self.region)[1]
                raise AccessDeniedError(caller, f"sts:AssumeRole on resource: {role_arn}") from None
        return original(self)

    TokenResponse.assume_role = assume_role


def _reference_groups_across_accounts() -> None:
    from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original = SecurityGroupBackend._add_source_group

    def peered(backend: Any, other_vpc_id: str) -> bool:
        """An active peering between `other_vpc_id` and a VPC of `backend`'s account."""
        for peering in backend.describe_vpc_peering_connections():
            if peering._status.code != "active":
                continue
            for end, far in ((peering.vpc, peering.peer_vpc), (peering.peer_vpc, peering.vpc)):
                if far.id == other_vpc_id and end.owner_id == backend.account_id:
                    return True
        return False

    def add_source_group(
        self: Any, source_groups: list[dict[str, Any]] | None, vpc_id: str | None
    ) -> list[dict[str, Any]]:
        result = []
        for item in source_groups or []:
            owner = item.get("UserId")
            if not owner or owner == self.account_id or "GroupId" not in item:
                result += original(self, [item], vpc_id)
                continue
            other = ec2_backends[owner][self.region_name]
            group = other.get_security_group_by_name_or_id(item["GroupId"], None)
            if group is None or not peered(self, group.vpc_id):
                # AWS: the group must exist in that account, in a VPC peered (active) with
                # this one, in this region.
                raise InvalidSecurityGroupNotFoundError(item["GroupId"])
            item.setdefault("OwnerId", owner)
            result.append(item)
        return result

    SecurityGroupBackend._add_source_group = add_source_group


# How Step Functions spells the services mwaa-gate's workflows call through aws-sdk tasks.
SDK_ERROR_SERVICE_NAMES = {
    "mwaa": "Mwaa",
    "ec2": "Ec2",
    "elasticloadbalancingv2": "ElasticLoadBalancingV2",
    "iam": "Iam",
    "sts": "Sts",
    "lambda": "Lambda",
}


def _name_sdk_errors_like_step_functions() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    aws_sdk._SERVICE_ERROR_NAMES.update(SDK_ERROR_SERVICE_NAMES)


def _patch_elbv2_ip_targets() -> None:
    import ipaddress

    from moto.ec2.models import ec2_backends
    from moto.elbv2.exceptions import ValidationError
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    register, health_for = FakeTargetGroup.register, FakeTargetGroup.health_for

    def vpc_networks(group: Any) -> list[Any]:
        vpc = ec2_backends[group.account_id][group.region_name].get_vpc(group.vpc_id)
        associations = getattr(vpc, "cidr_block_association_set", None) or []
        if isinstance(associations, dict):
            associations = list(associations.values())
        blocks = {vpc.cidr_block} | {
            a.get("cidr_block") for a in associations if isinstance(a, dict) and a.get("cidr_block")
        }
        return [ipaddress.ip_network(block) for block in blocks]

    def register_keeping_zone(self: Any, targets: list[dict[str, Any]]) -> None:
        if self.target_type == "ip":
            networks = vpc_networks(self)
            for target in targets:
                inside = any(ipaddress.ip_address(target["Id"]) in n for n in networks)
                if not inside and target.get("AvailabilityZone") != "all":
                    raise ValidationError(
                        f"The IP address '{target['Id']}' is not within the VPC of the target "
                        "group; register it with AvailabilityZone 'all'"
                    )
        register(self, targets)
        for target in targets:
            if target.get("AvailabilityZone") and target["Id"] in self.targets:
                self.targets[target["Id"]]["AvailabilityZone"] = target["AvailabilityZone"]

    def health_with_zone(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        status = health_for(self, target, ec2_backend)
        status.availability_zone = (self.targets.get(target["Id"]) or {}).get("AvailabilityZone")
        return status

    def target(self: Any) -> dict[str, Any]:
        described = {"Id": self.instance_id, "Port": self.port}
        if getattr(self, "availability_zone", None):
            described["AvailabilityZone"] = self.availability_zone
        return described

    FakeTargetGroup.register = register_keeping_zone
    FakeTargetGroup.health_for = health_with_zone
    FakeHealthStatus.target = property(target)


def _filter_vpc_peering_connections() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection
    from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections
    from moto.ec2.utils import generic_filter

    tag_filter_value = VPCPeeringConnection.get_filter_value

    def get_filter_value(self: Any, name: str, method_name: str | None = None) -> Any:
        values = {
            "vpc-peering-connection-id": lambda: self.id,
            "status-code": lambda: self._status.code,
            "requester-vpc-info.vpc-id": lambda: self.vpc.id,
            "accepter-vpc-info.vpc-id": lambda: self.peer_vpc.id,
            "requester-vpc-info.cidr-block": lambda: self.vpc.cidr_block,
            "accepter-vpc-info.cidr-block": lambda: self.peer_vpc.cidr_block,
            "requester-vpc-info.owner-id": lambda: self.vpc.owner_id,
            "accepter-vpc-info.owner-id": lambda: self.peer_vpc.owner_id,
        }
        if name in values:
            return values[name]()
        return tag_filter_value(self, name, method_name)

    def describe(self: Any) -> Any:
        ids = self._get_param("VpcPeeringConnectionIds", [])
        found = self.ec2_backend.describe_vpc_peering_connections(vpc_peering_ids=ids)
        filters = self._filters_from_querystring()
        return ActionResult({"VpcPeeringConnections": generic_filter(filters, found)})

    VPCPeeringConnection.get_filter_value = get_filter_value
    VPCPeeringConnections.describe_vpc_peering_connections = describe
