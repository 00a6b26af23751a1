"""The portal's settings (DESIGN §5 Portal): where it is served and whom users ask for access.

- `PORTAL_HOST`: the host whose `GET /` is the portal; default `BASE_DOMAIN`; neither set: no
  portal (`GET /` is 404 on every host).
- `PORTAL_CONTACT`: whom a user without environments should ask (plain text, shown escaped);
  default "your platform team".

Kept apart from `authx.settings`: the login and logout paths never need them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from authx.environments import normalise_host
from authx.errors import Misconfigured

DEFAULT_CONTACT = "your platform team"
MAX_CONTACT_LENGTH = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class PortalSettings:
    host: str | None  # None: this deployment has no portal (GET / is 404 everywhere)
    contact: str


def from_environ(environ: Mapping[str, str]) -> PortalSettings:
    raw = (environ.get("PORTAL_HOST") or "").strip() or (environ.get("BASE_DOMAIN") or "").strip()
    host = None
    if raw:
        host = normalise_host(raw.rstrip("."))
        if host is None or ":" in raw:
            raise Misconfigured("PORTAL_HOST (or BASE_DOMAIN) is not a host name")
    contact = (environ.get("PORTAL_CONTACT") or "").strip()
    if len(contact) > MAX_CONTACT_LENGTH or _UNPRINTABLE.search(contact):
        raise Misconfigured(
            f"PORTAL_CONTACT must be at most {MAX_CONTACT_LENGTH} printable characters"
        )
    return PortalSettings(host=host, contact=contact or DEFAULT_CONTACT)


def current() -> PortalSettings:
    """Read now: three variables, cheap next to the DynamoDB reads of a portal page."""
    return from_environ(os.environ)
