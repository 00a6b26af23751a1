"""The ALB's public signing keys: fetched from the configured key service only, cached per kid.

AWS publishes each key as a PEM document at `<ALB_PUBLIC_KEY_URL>/<kid>`. A key never changes for
a kid, so a key, once fetched, is kept for the life of the container (bounded, in case of abuse);
failures are not cached. A 4xx from the key service means it has no key for the kid: the
token is refused (401). The service down, stalled, failing or answering something that is not
an ES256 key means the token cannot be checked now: a 502, like any AWS failure (DESIGN §5).
The kid must already match the strict pattern, and is URL-encoded anyway before it becomes part
of a URL. Redirects are refused: the key comes from the configured
service or not at all. The whole fetch, retries and backoff included, ends within
`FETCH_DEADLINE_SECONDS` (3 s): a deadline, not a timeout per attempt.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from authx.errors import KeyUnavailable, KeyUnknown, KidRejected

# AWS's ALB key ids are UUIDs (aws-jwt-verify accepts nothing else).
KID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

FETCH_DEADLINE_SECONDS = 3.0  # the whole fetch, retries and backoff included
ATTEMPT_TIMEOUT_SECONDS = 2.0  # one attempt never takes more (nor more than what is left)
ATTEMPTS = 3  # one try and two retries, on network errors and 5xx only
BACKOFF_SECONDS = 0.1
MIN_ATTEMPT_SECONDS = 0.05  # no retry is started with less time than this left
MAX_KEY_BYTES = 8192
MAX_CACHED_KEYS = 64

_cache: OrderedDict[tuple[str, str], ec.EllipticCurvePublicKey] = OrderedDict()
_fetches = 0
_clock = time.monotonic
_sleep = time.sleep


class _Status(Exception):
    """The key service answered with something other than 200."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def fetch_count() -> int:
    """How many key documents this process has fetched (for the benchmark and tests)."""
    return _fetches


def clear() -> None:
    """Forget every cached key (tests)."""
    _cache.clear()


def key_url(base_url: str, kid: str) -> str:
    if not KID_PATTERN.fullmatch(kid):
        raise KidRejected("The sign-in token names an invalid key.")
    return f"{base_url}/{quote(kid, safe='')}"


def _get(url: str, stop_at: float) -> bytes:
    """One GET of `url` that gives up at `stop_at` (on `_clock`): `TimeoutError`.

    Every blocking step (connect, request, each read) gets only the time left, so a service that
    stalls or trickles bytes cannot hold the login past the deadline. Redirects are not followed
    (a 3xx is a `_Status`). http.client is imported here, on the first fetch only: it is not
    needed to import the handler.
    """
    import http.client
    from urllib.parse import urlsplit

    def left() -> float:
        remaining = stop_at - _clock()
        if remaining <= 0:
            raise TimeoutError("key fetch deadline passed")
        return remaining

    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=left())
    sock = None
    try:
        connection.connect()
        sock = connection.sock  # kept: the connection lets go of it once the answer starts
        sock.settimeout(left())
        connection.request("GET", parts.path or "/", headers={"Accept": "text/plain"})
        sock.settimeout(left())
        response = connection.getresponse()
        if response.status != 200:
            raise _Status(response.status)
        body = b""
        while len(body) <= MAX_KEY_BYTES:
            sock.settimeout(left())
            chunk = response.read1(MAX_KEY_BYTES + 1 - len(body))
            if not chunk:
                break
            body += chunk
        return body
    except http.client.HTTPException as error:  # a malformed answer: not an OSError
        raise ConnectionError("the key service's answer is not HTTP") from error
    finally:
        connection.close()
        if sock is not None:
            sock.close()


def _fetch_pem(url: str) -> bytes:
    """The key document, retried on network errors and 5xx, all within FETCH_DEADLINE_SECONDS."""
    global _fetches
    stop_at = _clock() + FETCH_DEADLINE_SECONDS
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            pause = BACKOFF_SECONDS * (2 ** (attempt - 1))
            if stop_at - _clock() < pause + MIN_ATTEMPT_SECONDS:
                break
            _sleep(pause)
        _fetches += 1
        try:
            return _get(url, min(stop_at, _clock() + ATTEMPT_TIMEOUT_SECONDS))
        except _Status as error:
            last = error
            if 400 <= error.status < 500:  # AWS's key service has no key for this kid
                raise KeyUnknown(
                    "The sign-in token names a key the load balancer does not have."
                ) from error
            if error.status < 500:
                break  # a redirect (refused): retrying will not help
        except (OSError, ValueError) as error:  # timeouts, refused, reset, TLS, bad HTTP
            last = error
    raise KeyUnavailable("The key that signed the sign-in token could not be fetched.") from last


def _parse(pem: bytes) -> ec.EllipticCurvePublicKey:
    if len(pem) > MAX_KEY_BYTES:
        raise KeyUnavailable("The signing key is not a valid key.")
    try:
        key = load_pem_public_key(pem)
    except ValueError as error:
        raise KeyUnavailable("The signing key is not a valid key.") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyUnavailable("The signing key is not an ES256 key.")
    return key


def public_key(base_url: str, kid: str) -> ec.EllipticCurvePublicKey:
    """The EC P-256 public key for `kid`, from the cache or from the key service."""
    url = key_url(base_url, kid)
    cache_key = (base_url, kid)
    key = _cache.get(cache_key)
    if key is not None:
        _cache.move_to_end(cache_key)  # least recently used goes first, not the oldest fetched
    else:
        key = _parse(_fetch_pem(url))
        _cache[cache_key] = key
        while len(_cache) > MAX_CACHED_KEYS:
            _cache.popitem(last=False)
    return key
