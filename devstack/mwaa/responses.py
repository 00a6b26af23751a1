"""MWAA's REST-JSON protocol for the devstack backend; shapes come from botocore's model."""

from __future__ import annotations

from urllib.parse import unquote

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
