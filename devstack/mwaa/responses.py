"""MWAA's REST-JSON protocol for the devstack backend; shapes come from botocore's model."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlparse

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult

from .models import MWAABackend, mwaa_backends


class MWAAResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="mwaa")
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> MWAABackend:
        return mwaa_backends[self.current_account][self.region]

    def _name(self) -> str:
        return unquote(self._get_param("Name") or "")

    def _arn(self) -> str:
        return unquote(self._get_param("ResourceArn") or "")

    def create_environment(self) -> ActionResult:
        params = dict(self.params)
        params["Name"] = self._name()
        return ActionResult({"Arn": self.backend.create_environment(params)})

    def get_environment(self) -> ActionResult:
        return ActionResult({"Environment": self.backend.get_environment(self._name())})

    def list_environments(self) -> ActionResult:
        names, next_token = self.backend.list_environments(
            self._get_param("MaxResults"), self._get_param("NextToken")
        )
        result: dict[str, object] = {"Environments": names}
        if next_token:
            result["NextToken"] = next_token
        return ActionResult(result)

    def update_environment(self) -> ActionResult:
        params = dict(self.params)
        params["Name"] = self._name()
        return ActionResult({"Arn": self.backend.update_environment(params)})

    def delete_environment(self) -> EmptyResult:
        self.backend.delete_environment(self._name())
        return EmptyResult()

    def create_web_login_token(self) -> ActionResult:
        return ActionResult(self.backend.create_web_login_token(self._name(), self.access_key))

    def create_cli_token(self) -> ActionResult:
        return ActionResult(self.backend.create_cli_token(self._name(), self.access_key))

    def tag_resource(self) -> EmptyResult:
        self.backend.tag_resource(self._arn(), self._get_param("Tags"))
        return EmptyResult()

    def untag_resource(self) -> EmptyResult:
        self.backend.untag_resource(self._arn(), self._get_param("tagKeys") or [])
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"Tags": self.backend.list_tags_for_resource(self._arn())})


REDEEM_PATH = "/devstack/webtoken/{name}/redeem"
_REGION_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_REGION = re.compile(r"^(?:api\.|env\.|ops\.)?airflow\.([a-z0-9-]+)\.amazonaws\.com$")


def redeem_web_login_token(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """`POST /devstack/webtoken/<name>/redeem` `{"WebToken", "Region", "AccountId"?}`, signed
    with SigV4 for the `airflow` service (how moto's server picks the backend): devstack's web
    server stand-in redeems a web login token (not an MWAA operation; MWAA's web server does
    this inside the service). 200 with what the token was issued for, 403 when it is not valid
    here, used already or expired, 404 for an unknown environment, 400 for a bad body."""
    url = urlparse(full_url)
    name = unquote(url.path.rstrip("/").split("/")[-2])
    raw = getattr(request, "data", None) or getattr(request, "body", None) or b"{}"
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("WebToken"), str):
        return 400, {}, json.dumps({"message": 'POST {"WebToken": "...", "Region": "..."}'})
    from_host = _REGION.match(url.hostname or "")
    region = from_host.group(1) if from_host else body.get("Region")
    if not isinstance(region, str) or not _REGION_NAME.fullmatch(region):
        return 400, {}, json.dumps({"message": "Region is an AWS region name"})
    account = body.get("AccountId") or DEFAULT_ACCOUNT_ID
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        return 400, {}, json.dumps({"message": "AccountId is 12 digits"})
    try:
        issued = mwaa_backends[account][region].redeem_web_login_token(name, body["WebToken"])
    except ServiceException as error:
        status = {"ResourceNotFoundException": 404, "AccessDeniedException": 403}.get(
            error.code, 400
        )
        return status, {}, json.dumps({"message": error.message, "code": error.code})
    return 200, {"Content-Type": "application/json"}, json.dumps(issued)
