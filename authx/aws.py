"""AWS clients, built once per process on first use; none is built per sign-in.

botocore is imported here lazily: refusals (401, 400…) and logout never touch AWS, and the
module graph of the handler stays cheap to import. The DynamoDB and STS clients (authX's own
credentials) are kept for the life of the container, one per (service, region).

MWAA is called with the credentials of the role assumed for *that* sign-in, yet its client is
also built once per region: it is an unsigned client (`signature_version=UNSIGNED`, so it holds
no credentials at all, not even authX's own) whose `before-sign` hook signs each request with
botocore's public `SigV4Auth`, using the credentials that `signing_as(...)` puts in a context
variable for the length of one call only. Credentials are never stored on a client, never
cached, and a call made outside `signing_as` fails instead of going out unsigned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.session import Session

_session: Session | None = None
_clients: dict[tuple[str, str], Any] = {}
_mwaa_clients: dict[str, Any] = {}
_call_credentials: ContextVar[Any] = ContextVar("authx_call_credentials", default=None)
_sigv4: Any = None  # botocore.auth.SigV4Auth, bound when the first MWAA client is built

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3
# A fixed User-Agent: botocore otherwise rebuilds its user-agent string (twice) on every call.
USER_AGENT = "mwaa-gate-authx"


def _raw_timestamp(value: str) -> str:
    return value


def session() -> Session:
    """The process's botocore session (tests register event handlers on it).

    Its response parsers keep timestamps as AWS sent them: the only one authX receives is the
    STS credentials' `Expiration`, which it never reads, and turning it into a datetime (through
    dateutil) was a tenth of botocore's work per sign-in.
    """
    global _session
    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
        _session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=_raw_timestamp
        )
    return _session


def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        user_agent=USER_AGENT,
        # authX builds every parameter itself from checked values, and AWS validates them
        # again: botocore's client-side pass over the model is work done twice per call.
        parameter_validation=False,
    )


def client(service: str, region: str) -> Any:
    """A long-lived client for `service` in `region` (DynamoDB, STS)."""
    key = (service, region)
    found = _clients.get(key)
    if found is None:
        found = session().create_client(service, region_name=region, config=_config())
        _clients[key] = found
    return found


def mwaa(region: str) -> Any:
    """The MWAA client of `region`, built once: unsigned, signed per call by `signing_as`."""
    global _sigv4
    found = _mwaa_clients.get(region)
    if found is None:
        import botocore
        from botocore.auth import SigV4Auth
        from botocore.config import Config

        _sigv4 = SigV4Auth
        found = session().create_client(
            "mwaa",
            region_name=region,
            config=_config().merge(Config(signature_version=botocore.UNSIGNED)),
        )
        found.meta.events.register("before-sign.mwaa", _sign_with_call_credentials)
        _mwaa_clients[region] = found
    return found


@contextmanager
def signing_as(credentials: Mapping[str, Any]) -> Iterator[None]:
    """Sign the MWAA calls made inside this block with `credentials` (STS AssumeRole's).

    The credentials live in a context variable for the block only: two sign-ins (or two
    threads) never see each other's, and nothing keeps them afterwards.
    """
    from botocore.credentials import ReadOnlyCredentials

    token = _call_credentials.set(
        ReadOnlyCredentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
    )
    try:
        yield
    finally:
        _call_credentials.reset(token)


def _sign_with_call_credentials(
    request: Any, signing_name: str, region_name: str, **kwargs: Any
) -> None:
    """`before-sign` hook of the MWAA clients: SigV4 with this call's credentials."""
    credentials = _call_credentials.get()
    if credentials is None:
        raise RuntimeError("an MWAA call was made outside aws.signing_as(): refused unsigned")
    _sigv4(credentials, signing_name, region_name).add_auth(request)


def reset() -> None:
    """Forget the clients and the session (tests, bench)."""
    global _session
    _clients.clear()
    _mwaa_clients.clear()
    _session = None


def errors() -> tuple[type[Exception], ...]:
    """The exceptions a botocore call raises when AWS answers with an error or cannot be reached."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def http_status(error: Exception) -> int:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0
