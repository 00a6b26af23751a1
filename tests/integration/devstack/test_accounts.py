"""devstack's accounts: one moto world per account, the member template deployed from its file,
and the two moto gaps closed (STS on a missing role, group references across accounts)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import devstack
from devstack import landscape

REGION = "us-east-1"
MEMBER = landscape.MEMBER_ACCOUNT


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def assumed(role_arn: str, service: str) -> Any:
    credentials = aws("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@pytest.fixture
def stack() -> Any:
    with devstack.aws() as running:
        yield running


def test_the_member_template_deploys_its_roles_into_the_member_account(stack: Any) -> None:
    member = landscape.member_account(aws)

    iam = member["client"]("iam")
    names = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    assert names == sorted(
        ["mwaa-gate-local-member"]
        + [f"mwaa-gate-local-airflow-{r}" for r in ("Admin", "Op", "Public", "User", "Viewer")]
    )
    role = iam.get_role(RoleName="mwaa-gate-local-member")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{MEMBER}:role/mwaa-gate-local-member"
    assert member["template_outputs"]["MemberRoleArn"] == role["Arn"]
    assert aws("iam").list_roles()["Roles"] == []  # nothing in the service's account


def test_assumed_role_credentials_act_in_the_role_account(stack: Any) -> None:
    member = landscape.member_account(aws)

    ec2 = assumed(f"arn:aws:iam::{MEMBER}:role/mwaa-gate-local-member", "ec2")

    assert member["vpc_id"] in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert member["vpc_id"] not in {v["VpcId"] for v in aws("ec2").describe_vpcs()["Vpcs"]}


def test_assuming_a_role_that_does_not_exist_is_access_denied(stack: Any) -> None:
    landscape.member_account(aws, template=False)

    with pytest.raises(ClientError) as refused:
        aws("sts").assume_role(
            RoleArn=f"arn:aws:iam::{MEMBER}:role/mwaa-gate-local-member", RoleSessionName="s1"
        )

    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert (
        f"sts:AssumeRole on resource: arn:aws:iam::{MEMBER}:role/mwaa-gate-local-member"
        in (error["Message"])
    )


def _peer(alb: dict[str, Any], member: dict[str, Any], accept: bool = True) -> str:
    peering = aws("ec2").create_vpc_peering_connection(
        VpcId=alb["vpc_id"], PeerVpcId=member["vpc_id"], PeerOwnerId=MEMBER
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    if accept:
        member["client"]("ec2").accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    return peering


def _reference(member: dict[str, Any], alb: dict[str, Any]) -> dict[str, Any]:
    return member["client"]("ec2").authorize_security_group_ingress(
        GroupId=member["security_group_id"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [
                    {"GroupId": alb["security_group_id"], "UserId": landscape.SERVICE_ACCOUNT}
                ],
            }
        ],
    )


def test_a_rule_may_reference_a_group_of_another_account_across_a_peering(stack: Any) -> None:
    alb = landscape.build(aws)
    member = landscape.member_account(aws)
    _peer(alb, member)

    made = _reference(member, alb)["SecurityGroupRules"][0]

    assert made["ReferencedGroupInfo"]["GroupId"] == alb["security_group_id"]
    rules = member["client"]("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [member["security_group_id"]]}]
    )["SecurityGroupRules"]
    assert [r["ReferencedGroupInfo"]["GroupId"] for r in rules if not r["IsEgress"]] == [
        alb["security_group_id"]
    ]


def test_a_reference_to_another_account_needs_an_active_peering(stack: Any) -> None:
    alb = landscape.build(aws)
    member = landscape.member_account(aws)
    _peer(alb, member, accept=False)

    with pytest.raises(ClientError) as refused:
        _reference(member, alb)

    assert refused.value.response["Error"]["Code"] == "InvalidGroup.NotFound"


def test_a_reference_to_a_group_the_other_account_does_not_have_is_not_found(stack: Any) -> None:
    alb = landscape.build(aws)
    member = landscape.member_account(aws)
    _peer(alb, member)

    with pytest.raises(ClientError) as refused:
        _reference(member, {**alb, "security_group_id": "sg-0123456789abcdef0"})

    assert refused.value.response["Error"]["Code"] == "InvalidGroup.NotFound"
