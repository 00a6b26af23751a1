"""`GET /` on the portal host: the signed-in user's environments (DESIGN §5 Portal).

Order: the host must be `PORTAL_HOST` (anything else is 404, before the token is looked at);
the ALB token is verified (401 otherwise, and no AWS call); then DynamoDB reads only
(`authx.portal_reads`) and the page (`authx.portal_page`).
"""

from __future__ import annotations

from authx import login, portal_page, portal_reads, portal_settings, settings, token
from authx.alb import Request, Response
from authx.audit import Decision
from authx.environments import normalise_host
from authx.errors import UnknownPath

PATH = "/"


def handle(request: Request, decision: Decision, now: float) -> Response:
    decision.action = "portal"
    portal = portal_settings.current()
    if portal.host is None or normalise_host(request.header("host")) != portal.host:
        raise UnknownPath("There is nothing here.")
    config = settings.current()
    identity = token.verify(request.single_header(login.TOKEN_HEADER), config, now)
    decision.user = identity.user
    decision.groups_count = len(identity.groups)
    entries = portal_reads.for_identity(config, identity, now)
    body = portal_page.render(identity.user, entries, portal.contact, login.PATH)
    return Response(status=200, body=body)
