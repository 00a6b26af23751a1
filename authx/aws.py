"""AWS clients, built once per process on first use.

botocore is imported here lazily: refusals (401, 400…) and logout never touch AWS, and the
module graph of the handler stays cheap to import. The DynamoDB and STS clients are kept for the
life of the container; an MWAA client is made per login because it signs with that login's
assumed-role credentials (the service model is cached by the shared session, so this is cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.session import Session

_session: Session | None = None
_clients: dict[tuple[str, str], Any] = {}

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3


def session() -> Session:
    """The process's botocore session (tests register event handlers on it)."""
    global _session
    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
    return _session


def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    )


def client(service: str, region: str) -> Any:
    """A long-lived client for `service` in `region` (DynamoDB, STS)."""
    key = (service, region)
    found = _clients.get(key)
    if found is None:
        found = session().create_client(service, region_name=region, config=_config())
        _clients[key] = found
    return found


def client_with_credentials(service: str, region: str, credentials: dict[str, Any]) -> Any:
    """A client that signs with temporary credentials (as returned by STS AssumeRole)."""
    return session().create_client(
        service,
        region_name=region,
        config=_config(),
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def reset() -> None:
    """Forget the clients and the session (tests)."""
    global _session
    _clients.clear()
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
