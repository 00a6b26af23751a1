"""MWAA errors, as botocore's model names them (serialised by moto from that model)."""

from moto.core.exceptions import ServiceException


class ValidationException(ServiceException):
    code = "ValidationException"


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"


class AccessDeniedException(ServiceException):
    code = "AccessDeniedException"


class InternalServerException(ServiceException):
    code = "InternalServerException"


class ServiceUnavailableException(ServiceException):
    code = "ServiceUnavailableException"
