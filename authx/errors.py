"""Every way a request can be refused, as a typed error, and the one place each maps to a status.

A refusal carries a `reason` (a short code for the audit line and the metrics), a page title and
a message safe to show the user (never a token, never a credential). The HTTP status belongs to
the family the error is in: one family, one status.
"""

from __future__ import annotations

from typing import ClassVar


class AwsCause(Exception):
    """The AWS error code behind a refusal, chained as its cause so the audit line can name it."""


class Refusal(Exception):
    """Base of every refusal: subclasses set the family's status and title."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Something went wrong"
    reason: ClassVar[str] = "error"
    retry: ClassVar[bool] = False

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.title)
        self.message = message or self.title


# --- 401: the ALB token is missing or fails a check. No AWS call is made after one of these. ---
class TokenRefused(Refusal):
    status = 401
    title = "Sign-in could not be verified"
    reason = "token_invalid"


class TokenMissing(TokenRefused):
    reason = "token_missing"


class TokenMalformed(TokenRefused):
    reason = "token_malformed"


class KidRejected(TokenRefused):
    reason = "token_kid_rejected"


class SignerRejected(TokenRefused):
    reason = "token_signer_rejected"


class OriginRejected(TokenRefused):
    """The token came from another sign-in action of the load balancer (issuer or client)."""

    reason = "token_origin_rejected"


class AlgorithmRejected(TokenRefused):
    reason = "token_algorithm_rejected"


class TokenExpired(TokenRefused):
    reason = "token_expired"


class KeyUnknown(TokenRefused):
    """The key service has no key for the token's kid (it answered 4xx): not a token the ALB
    signed."""

    reason = "token_key_unknown"


class SignatureInvalid(TokenRefused):
    reason = "token_signature_invalid"


class UserClaimMissing(TokenRefused):
    reason = "token_user_claim_missing"


class UserClaimInvalid(TokenRefused):
    """The user claim holds characters no identity may hold (controls, format characters)."""

    reason = "token_user_claim_invalid"


class ClaimInvalid(TokenRefused):
    """A claim authX reads has the wrong JSON type (groups, email_verified)."""

    reason = "token_claim_invalid"


class EmailUnverified(TokenRefused):
    """`USER_CLAIM=email` and the token says the address is not verified."""

    reason = "token_email_unverified"


# --- 400: the request itself is wrong. ---
class BadRequest(Refusal):
    status = 400
    title = "Bad request"
    reason = "bad_request"


class UnknownRole(BadRequest):
    reason = "unknown_role"


# --- 403: signed in, but not allowed. ---
class Forbidden(Refusal):
    status = 403
    title = "Access denied"
    reason = "forbidden"


class NotGranted(Forbidden):
    reason = "not_granted"


class RoleAboveGrant(Forbidden):
    reason = "role_above_grant"


class MwaaAccessDenied(Forbidden):
    reason = "mwaa_access_denied"


# --- 404: nothing to log in to here. ---
class NotFound(Refusal):
    status = 404
    title = "Not found"
    reason = "not_found"


class UnknownEnvironment(NotFound):
    reason = "unknown_environment"


class EnvironmentNotReady(NotFound):
    reason = "environment_not_ready"


class MwaaEnvironmentNotFound(NotFound):
    reason = "mwaa_environment_not_found"


class UnknownPath(NotFound):
    reason = "unknown_path"


# --- 405: a known path asked with a method it does not answer. ---
class MethodNotAllowed(Refusal):
    status = 405
    title = "Method not allowed"
    reason = "method_not_allowed"

    def __init__(self, message: str = "", allow: tuple[str, ...] = ("GET",)) -> None:
        super().__init__(message)
        self.allow = allow


# --- 503: the environment is known but broken outside mwaa-gate (reconciliation found it). ---
class EnvironmentDegraded(Refusal):
    status = 503
    title = "This Airflow environment is unavailable"
    reason = "environment_degraded"
    retry = True


# --- 500: this deployment is misconfigured (not the user's fault, not AWS's). ---
class Misconfigured(Refusal):
    status = 500
    title = "Sign-in is not configured correctly"
    reason = "misconfigured"


class SingleValueHeaders(Misconfigured):
    """The target group has multi-value headers off: the ALB would keep one Set-Cookie only."""

    reason = "single_value_headers"


# --- 502: AWS failed or throttled us; trying again may work. ---
class AwsUnavailable(Refusal):
    status = 502
    title = "AWS is not answering right now"
    reason = "aws_unavailable"
    retry = True


class KeyUnavailable(AwsUnavailable):
    """The ALB's key service could not be reached, stalled past the deadline, failed (5xx or a
    redirect) or answered something that is not an ES256 key: the token cannot be checked now.
    No other AWS call is made."""

    title = "Sign-in cannot be checked right now"
    reason = "token_key_unavailable"
