"""What devstack adds to moto, installed once per process (idempotent).

- `moto.mwaa`: the MWAA backend, registered in moto's backend index so that both the in-process
  mock and moto's server route `airflow` requests to it.
- In-process Lambda: moto's Lambda `invoke` runs a registered Chalice function (see lambdas.py)
  before it would look for a deployed function.
- Step Functions: an aws-sdk task's error is `<Service>.<Exception>` with the service in
  PascalCase (`Mwaa.ResourceNotFoundException`); moto knows only a few services' spelling.
- STS: moto's AssumeRole drops `SourceIdentity`; devstack validates and keeps it on the
  assumed-role session, as STS does, so tests can check what a caller asked for.
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


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _register_mwaa()
        _patch_lambda_invoke()
        _patch_sts_source_identity()
        _name_sdk_errors_like_step_functions()
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
    from devstack.lambdas import dispatcher

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        target = dispatcher.resolve(function_name)
        if target is None:
            # Like Lambda: an unknown function is ResourceNotFoundException (moto's Docker-less
            # backend would answer 200 and echo the payload, hiding a wrong ARN).
            self.get_function(function_name, qualifier)
            return original(self, function_name, qualifier, body, headers, response_headers)
        project, function = target
        arn = (
            f"arn:aws:lambda:{self.region_name}:{self.account_id}:function:"
            f"{project.deployed_name(function.name)}"
        )
        payload, errored = dispatcher.invoke(project, function, body, arn)
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
