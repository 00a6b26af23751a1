"""The portal's HTML: the signed-in user's environments, or whom to ask when there are none.

Plain HTML, no JavaScript, one column that reads on a phone. Every value from a record, a grant,
a token or a setting is HTML-escaped; links are built from URL-encoded query values, then
escaped as attributes. An environment gets links only when it is READY and its name is one
authX's login accepts (anything else would only lead to an error page).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from authx import pages
from authx.access import Access
from authx.environments import NAME_PATTERN

TITLE = "Your Airflow environments"
LOGOUT_PATH = "/logout"
STYLE = (
    "ul.envs{list-style:none;padding:0}"
    "ul.envs li{border:1px solid #d0d4d9;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}"
    "ul.envs h2{font-size:1.1rem;margin:0 0 .4rem;overflow-wrap:anywhere}"
    "p.meta{color:#444;font-size:.9rem;margin:.2rem 0}"
    "a.open{display:inline-block;padding:.5rem 1rem;margin:.4rem 0;background:#0b5cad;"
    "color:#fff;border-radius:.4rem;text-decoration:none}"
    "p.lower a{margin-right:.6rem}"
    "p.closed{color:#8a4b00}"
)


def login_href(login_path: str, environment: str, role: str | None = None) -> str:
    """The portal-relative sign-in link (same host, so the same ALB session)."""
    query = {"mwaa_env": environment}
    if role is not None:
        query["rbac_role"] = role
    return f"{login_path}?{urlencode(query)}"


def expiry_text(expires_at: int | None) -> str:
    if expires_at is None:
        return "no end date"
    try:
        moment = time.gmtime(expires_at)
    except (OverflowError, OSError, ValueError):
        return "no end date in sight"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)
    shown = time.strftime("%Y-%m-%d %H:%M UTC", moment)
    return f'until <time datetime="{stamp}">{shown}</time>'


def _entry(entry: Access, login_path: str) -> str:
    name = escape(entry.environment)
    status = escape(entry.status or "UNKNOWN")
    meta = (
        f'<p class="meta">Status: <strong>{status}</strong> · Your role: '
        f"<strong>{escape(entry.rbac_role)}</strong> · Access {expiry_text(entry.expires_at)}</p>"
    )
    if not entry.ready or not NAME_PATTERN.fullmatch(entry.environment):
        body = '<p class="closed">Not open for sign-in right now.</p>'
    else:
        main = escape(login_href(login_path, entry.environment), quote=True)
        body = f'<a class="open" href="{main}">Open as {escape(entry.rbac_role)}</a>'
        lower = entry.roles[1:]
        if lower:
            links = " ".join(
                f'<a href="{escape(login_href(login_path, entry.environment, r), quote=True)}">'
                f"{escape(r)}</a>"
                for r in lower
            )
            body += f'<p class="lower">Or open with less access: {links}</p>'
    return f"<li><h2>{name}</h2>{meta}{body}</li>"


def render(user: str, entries: Sequence[Access], contact: str, login_path: str) -> str:
    sign_out = f'<p><a href="{LOGOUT_PATH}">Sign out</a></p>'
    if not entries:
        extra = (
            "<p>You have no Airflow environments yet.</p>"
            f"<p>To get access, ask {escape(contact)}.</p>{sign_out}"
        )
        return pages.page(TITLE, f"Signed in as {user}.", extra, STYLE)
    items = "".join(_entry(entry, login_path) for entry in entries)
    extra = f'{sign_out}<ul class="envs">{items}</ul>'
    return pages.page(TITLE, f"Signed in as {user}.", extra, STYLE)
