"""`/logout` and `/logout/close`: end the ALB session, then the IdP's, then say so.

The ALB keeps its session in cookies sharded as `<ALB_COOKIE_NAME>-0` … `-3` (more shards are
possible): every one of those, and any other shard the request carries, is expired. Then the
browser goes to `IDP_LOGOUT_URL` when one is set, with the close page as the post-logout
redirect, or straight to the close page. `IDP_LOGOUT_URL` may place the close page's address
itself with a `{close_url}` placeholder (Cognito's `logout_uri=`, for one), or name a fixed
return address (`logout_uri=`, `post_logout_redirect_uri=` or `redirect_uri=`, kept as is);
otherwise it is added as `post_logout_redirect_uri` (OpenID Connect RP-initiated logout).

Airflow's own logout paths (`/logout/` in Airflow 2, `/auth/logout` in Airflow 3; see
`authx.airflow_paths`) are routed here too, by GET or by POST (Airflow 3's may be a POST), so
leaving Airflow ends the ALB session as well; Airflow's session cookies of every version are
expired with the ALB's, so the next person on this browser never inherits an Airflow session.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from authx import airflow_paths, environments, pages, settings
from authx.alb import Request, Response
from authx.audit import Decision

PATHS = airflow_paths.AUTHX_LOGOUT_PATHS
CLOSE_PATH = airflow_paths.AUTHX_CLOSE_PATH
AIRFLOW_METHODS = ("GET", "POST")  # Airflow's logout paths; authX's own answer GET


def paths(config: settings.Settings) -> frozenset[str]:
    """Every logout path: authX's own and each Airflow version's."""
    return frozenset({*PATHS, *(p for v in config.airflow_paths.values() for p in v.logout)})


def airflow_cookies(config: settings.Settings) -> list[str]:
    names = {c for v in config.airflow_paths.values() for c in v.session_cookies}
    return sorted(names - {config.cookie_name})


SHARDS = 4
_EXPIRED = "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly"


def cookie_names(request: Request, cookie_name: str) -> list[str]:
    """Every ALB session cookie shard to expire: the usual four and any other carried."""
    names = {f"{cookie_name}-{shard}": None for shard in range(SHARDS)}
    # ASCII digits only: `\d` also matches other scripts' digits, which would be echoed back.
    shard = re.compile(rf"{re.escape(cookie_name)}-[0-9]{{1,3}}")
    for header in request.header_values("cookie"):
        for pair in header.split(";"):
            name = pair.split("=", 1)[0].strip()
            if shard.fullmatch(name):
                names.setdefault(name, None)
    return sorted(names, key=lambda n: int(n.rsplit("-", 1)[1]))


def close_url(request: Request) -> str:
    host = environments.normalise_host(request.header("host"))
    return f"https://{host}{CLOSE_PATH}" if host else CLOSE_PATH


# A logout URL that already says where to go next (Cognito's `logout_uri`, as platform setup
# writes it: the portal's close page, the one sign-out URL the app client must allow).
_RETURN_PARAMETER = re.compile(r"[?&](logout_uri|post_logout_redirect_uri|redirect_uri)=")


def idp_redirect(idp_logout_url: str, close: str) -> str:
    if "{close_url}" in idp_logout_url:
        return idp_logout_url.replace("{close_url}", quote(close, safe=""))
    if _RETURN_PARAMETER.search(idp_logout_url):
        return idp_logout_url
    separator = "&" if "?" in idp_logout_url else "?"
    return f"{idp_logout_url}{separator}post_logout_redirect_uri={quote(close, safe='')}"


def handle(request: Request, decision: Decision, now: float) -> Response:
    decision.action = "logout"
    config = settings.current()
    close = close_url(request)
    target = idp_redirect(config.idp_logout_url, close) if config.idp_logout_url else close
    names = cookie_names(request, config.cookie_name) + airflow_cookies(config)
    headers = [("Set-Cookie", f"{name}=; {_EXPIRED}") for name in names]
    headers.append(("Location", target))
    return Response(status=302, headers=headers)


def close(request: Request, decision: Decision, now: float) -> Response:
    decision.action = "logout_close"
    return Response(status=200, body=pages.closed())
