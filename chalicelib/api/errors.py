"""Typed API errors, each mapping to one HTTP status and one `Code` of `{"Code","Message"}`."""

from __future__ import annotations


class ApiError(Exception):
    """An answer that is not a success: the edge (`http.handled`) turns it into a response."""

    status: int = 500
    code: str = "InternalServerError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(ApiError):
    status = 400
    code = "BadRequestError"


class NotFoundError(ApiError):
    status = 404
    code = "NotFoundError"


class ConflictError(ApiError):
    status = 409
    code = "ConflictError"


class UnprocessableEntityError(ApiError):
    status = 422
    code = "UnprocessableEntityError"


class WorkflowStartError(ApiError):
    """The request is recorded but its Step Functions execution could not be started.

    Retrying the same request starts it (the execution name is deterministic).
    """

    status = 502
    code = "WorkflowStartError"


class ServiceUnavailableError(ApiError):
    """AWS throttled or failed transiently; the caller may retry."""

    status = 503
    code = "ServiceUnavailableError"


class BadGatewayError(ApiError):
    """AWS answered with an error this service did not expect."""

    status = 502
    code = "BadGatewayError"


class FieldErrors(BadRequestError):
    """Validation failures, one message per field, all reported at once."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors))
