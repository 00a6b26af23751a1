"""The ALB's public signing keys: fetched from the configured key service only, cached per kid.

AWS publishes each key as a PEM document at `<ALB_PUBLIC_KEY_URL>/<kid>`. A key never changes for
a kid, so a key, once fetched, is kept for the life of the container (bounded, in case of abuse);
failures are not cached. The kid must already match the strict pattern, and is URL-encoded
anyway before it becomes part of a URL. Redirects are refused: the key comes from the configured
service or not at all.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from authx.errors import KeyUnavailable, KidRejected

# AWS's ALB key ids are UUIDs (aws-jwt-verify accepts nothing else).
KID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

TIMEOUT_SECONDS = 2.0
ATTEMPTS = 3  # one try and two retries, on network errors and 5xx only
BACKOFF_SECONDS = 0.1
MAX_KEY_BYTES = 8192
MAX_CACHED_KEYS = 64

_cache: OrderedDict[tuple[str, str], ec.EllipticCurvePublicKey] = OrderedDict()
_fetches = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx then surfaces as an HTTPError: refused


_opener = urllib.request.build_opener(_NoRedirect)


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


def _fetch_pem(url: str) -> bytes:
    global _fetches
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(BACKOFF_SECONDS * (2 ** (attempt - 1)))
        _fetches += 1
        try:
            with _opener.open(url, timeout=TIMEOUT_SECONDS) as response:
                return response.read(MAX_KEY_BYTES + 1)
        except urllib.error.HTTPError as error:
            last = error
            if error.code < 500:
                break  # unknown kid or a redirect: retrying will not help
        except (urllib.error.URLError, TimeoutError, OSError) as error:
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
    if key is None:
        key = _parse(_fetch_pem(url))
        _cache[cache_key] = key
        while len(_cache) > MAX_CACHED_KEYS:
            _cache.popitem(last=False)
    return key
