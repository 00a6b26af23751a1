"""The local ALB front: one HTTP port on 127.0.0.1, every `*.localhost` host, the listener's
rules read from devstack's ELBv2 on every request (what onboarding wrote is what routes).

Per request: the rules (DescribeRules), the matching rule (rules.select), then its actions in
order: authenticate (authenticate.py) → forward to a Lambda target group (invoked through
devstack's Lambda API, which runs the project's handler in process) or to an IP target group
(proxied to the web server stand-in that the registered IP stands for), fixed-response,
redirect. The ALB's own pages (401, 502, 503, 561) are small HTML pages as the ALB's are.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import boto3
from botocore.config import Config

from devstack import alb
from devstack.httpserver import LocalHTTPServer

from . import authenticate, lambda_target, rules
from . import session as sessions
from .lambda_target import Reply
from .origins import LocalOrigins

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
ALB_HEADERS = ("x-amzn-oidc-data", "x-amzn-oidc-identity", "x-amzn-oidc-accesstoken")
STATUS_TEXT = {400: "Bad Request", 401: "Authorization Required", 413: "Request Entity Too Large"}
STATUS_TEXT |= {500: "Internal Server Error", 502: "Bad Gateway"}
STATUS_TEXT |= {503: "Service Temporarily Unavailable", 561: "Unauthorized"}
MAX_BODY = 1_048_576  # what an ALB passes to a Lambda target (1 MB)
USER_CLAIMS_SECONDS = 120  # lifetime of an x-amzn-oidc-data token


def alb_page(status: int) -> Reply:
    text = f"{status} {STATUS_TEXT.get(status, '')}".strip()
    body = (
        f"<html><head><title>{text}</title></head>"
        f"<body><center><h1>{text}</h1></center></body></html>"
    )
    return Reply(status, [("Content-Type", "text/html")], body.encode())


def load_balancer_arn(listener_arn: str) -> str:
    """`…:listener/app/<name>/<lb id>/<listener id>` → `…:loadbalancer/app/<name>/<lb id>`."""
    head, _, resource = listener_arn.partition(":listener/")
    return f"{head}:loadbalancer/{resource.rsplit('/', 1)[0]}"


@dataclass
class Incoming:
    method: str
    host: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    def rule_view(self) -> rules.Request:
        grouped: dict[str, list[str]] = {}
        for name, value in self.headers:
            grouped.setdefault(name.lower(), []).append(value)
        return rules.Request(
            self.method, self.host, self.path, self.query, grouped, source_ip=self.client_ip
        )


WebServerLookup = Callable[[str, int], "tuple[str, int] | None"]


@dataclass
class Front:
    """The ALB of `listener_arn` (in devstack at `aws_url`), served on 127.0.0.1:`port`."""

    aws_url: str
    listener_arn: str
    signing_key: alb.SigningKey
    web_servers: WebServerLookup  # (ip, port) → the stand-in's local (host, port)
    port: int = 0
    region: str = "us-east-1"
    cognito_domains: dict[str, str] = field(default_factory=dict)  # domain → local base URL
    local_ports: dict[str, int] = field(default_factory=dict)  # other *.localhost servers

    def __post_init__(self) -> None:
        config = Config(inject_host_prefix=False, retries={"max_attempts": 2})
        session = boto3.session.Session(
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",  # noqa: S106 - devstack takes any
            region_name=self.region,
        )
        self._clients = {
            name: session.client(name, endpoint_url=self.aws_url, config=config)
            for name in ("elbv2", "lambda", "cognito-idp")
        }
        self.sealer = sessions.Sealer()
        self.load_balancer_arn = load_balancer_arn(self.listener_arn)
        self._round_robin = 0
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                raw_length = self.headers.get("Content-Length") or "0"
                length = int(raw_length) if raw_length.isdigit() else -1
                if (
                    length < 0
                    or length > MAX_BODY
                    or "chunked" in str(self.headers.get("Transfer-Encoding", ""))
                ):
                    self.close_connection = True
                    answer = alb_page(413 if length > MAX_BODY else 400)
                else:
                    path, _, query = self.path.partition("?")
                    incoming = Incoming(
                        method=self.command,
                        host=self.headers.get("Host", ""),
                        path=path,
                        query=query,
                        headers=list(self.headers.items()),
                        body=self.rfile.read(length) if length else b"",
                        client_ip=self.client_address[0],
                    )
                    answer = front.handle(incoming)
                self.send_response(answer.status)
                for name, value in answer.headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = LocalHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        self.origins = LocalOrigins(self.port, self.local_ports)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Front:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, host: str, path: str = "/") -> str:
        return f"{self.origins.origin(host)}{path}"

    # --- one request -------------------------------------------------------------------------

    def handle(self, request: Incoming) -> Reply:
        try:
            answer = self._handle(request)
        except (authenticate.Misconfigured, rules.UnsupportedCondition):
            answer = alb_page(500)
        except authenticate.IdpFailed as failure:
            answer = alb_page(failure.status)
        except Exception:  # devstack unreachable, a rule the front cannot read…: the ALB's 500
            answer = alb_page(500)
        answer.headers = [
            (name, self.origins.to_local(value) if name.lower() == "location" else value)
            for name, value in answer.headers
        ]
        return answer

    def _rules(self, **query: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {**query}
        if "RuleArns" not in params:
            params["ListenerArn"] = self.listener_arn
        while True:
            page = self._clients["elbv2"].describe_rules(**params)
            found.extend(page["Rules"])
            if not page.get("NextMarker"):
                return found
            params["Marker"] = page["NextMarker"]

    def _handle(self, request: Incoming) -> Reply:
        if request.path == authenticate.CALLBACK_PATH:
            return self._idp_response(request)
        rule = rules.select(self._rules(), request.rule_view())
        if rule is None:
            return alb_page(503)
        extra_headers: list[tuple[str, str]] = []
        for action in rules.ordered_actions(rule):
            kind = action.get("Type")
            if kind in ("authenticate-oidc", "authenticate-cognito"):
                outcome = self._authenticate(request, rule, action)
                if isinstance(outcome, Reply):
                    return outcome
                extra_headers = outcome
            elif kind == "forward":
                return self._forward(request, action, extra_headers)
            elif kind == "fixed-response":
                return self._fixed_response(action)
            elif kind == "redirect":
                return self._redirect(request, action)
            else:
                raise authenticate.Misconfigured(f"action {kind!r} is not supported")
        raise authenticate.Misconfigured("the rule has no final action")

    # --- authenticate ------------------------------------------------------------------------

    def _provider(self, action: Mapping[str, Any]) -> authenticate.Provider:
        return authenticate.provider(
            action, self._cognito_client, self._cognito_url, self.origins.server_side
        )

    def _cognito_client(self, pool_arn: str, client_id: str) -> Mapping[str, Any]:
        return self._clients["cognito-idp"].describe_user_pool_client(
            UserPoolId=pool_arn.rsplit("/", 1)[-1], ClientId=client_id
        )["UserPoolClient"]

    def _cognito_url(self, domain: str, region: str) -> str:
        if domain in self.cognito_domains:
            return self.cognito_domains[domain]
        if "." in domain:
            return f"https://{domain}"
        return f"https://{domain}.auth.{region}.amazoncognito.com"

    def _authenticate(
        self, request: Incoming, rule: Mapping[str, Any], action: Mapping[str, Any]
    ) -> Reply | list[tuple[str, str]]:
        idp = self._provider(action)
        cookies = sessions.parse_cookies(request.values("cookie"))
        found = sessions.decode(self.sealer, cookies, idp.cookie_name)
        if found is not None and not found.expired():
            return self._claims_headers(idp, found)
        if idp.on_unauthenticated == "allow":
            return []
        if idp.on_unauthenticated == "deny":
            return alb_page(401)
        target = request.path + (f"?{request.query}" if request.query else "")
        location = authenticate.authorization_redirect(
            self.sealer,
            idp,
            rule["RuleArn"],
            int(action.get("Order") or 1),
            self.origins.origin(rules.Request("", request.host, "").host_name),
            rules.Request("", request.host, "").host_name,
            target,
        )
        return Reply(302, [("Location", location), ("Cache-Control", "no-store")], b"")

    def _claims_headers(
        self, idp: authenticate.Provider, found: sessions.Session
    ) -> list[tuple[str, str]]:
        claims = dict(found.claims)
        now = time.time()
        body: dict[str, Any] = {
            **{key: None for key in ("email",)},  # only what the IdP said
            **claims,
            "exp": int(now + USER_CLAIMS_SECONDS),
            "iss": idp.issuer,
        }
        token = alb.mint(
            self.signing_key,
            body,
            header={"iss": idp.issuer, "client": idp.client_id},
            header_exp=now + USER_CLAIMS_SECONDS,
            payload_exp=now + USER_CLAIMS_SECONDS,
            signer=self.load_balancer_arn,
        )
        return [
            ("x-amzn-oidc-data", token),
            ("x-amzn-oidc-identity", str(claims.get("sub", ""))),
            ("x-amzn-oidc-accesstoken", found.access_token),
        ]

    def _idp_response(self, request: Incoming) -> Reply:
        host = rules.Request("", request.host, "").host_name
        params = parse_qs(request.query)
        state = authenticate.open_state(self.sealer, (params.get("state") or [None])[0], host)
        if params.get("error"):
            raise authenticate.IdpFailed(401, "The identity provider refused the sign-in.")
        code = (params.get("code") or [None])[0]
        if not code:
            raise authenticate.IdpFailed(401, "The identity provider sent no code.")
        try:
            rule = self._rules(RuleArns=[state["rule"]])[0]
        except Exception:
            raise authenticate.IdpFailed(
                401, "The rule that started the sign-in is gone."
            ) from None
        action = next(
            (a for a in rule.get("Actions") or [] if int(a.get("Order") or 1) == state["order"]),
            None,
        )
        if action is None or not str(action.get("Type", "")).startswith("authenticate-"):
            raise authenticate.IdpFailed(401, "The rule that started the sign-in changed.")
        idp = self._provider(action)
        made = authenticate.exchange(idp, code, self.origins.origin(host))
        try:
            shards = sessions.encode(self.sealer, made, idp.cookie_name)
        except sessions.SessionTooLarge:
            return alb_page(500)
        carried = sessions.parse_cookies(request.values("cookie"))
        headers = [
            ("Set-Cookie", value)
            for value in sessions.set_cookie_headers(
                shards, carried, idp.cookie_name, made.expires_at
            )
        ]
        headers += [("Location", state["target"]), ("Cache-Control", "no-store")]
        return Reply(302, headers, b"")

    # --- final actions -----------------------------------------------------------------------

    def _fixed_response(self, action: Mapping[str, Any]) -> Reply:
        config = action.get("FixedResponseConfig") or {}
        headers = [("Content-Type", config["ContentType"])] if config.get("ContentType") else []
        return Reply(
            int(config.get("StatusCode", 200)), headers, config.get("MessageBody", "").encode()
        )

    def _redirect(self, request: Incoming, action: Mapping[str, Any]) -> Reply:
        config = action.get("RedirectConfig") or {}
        host = rules.Request("", request.host, "").host_name
        values = {
            "protocol": "HTTPS",
            "host": host,
            "port": "443",
            "path": request.path.lstrip("/"),
            "query": request.query,
        }

        def fill(template: str) -> str:
            for key, value in values.items():
                template = template.replace("#{" + key + "}", value)
            return template

        protocol = fill(config.get("Protocol", "#{protocol}")).lower()
        port = fill(config.get("Port", "#{port}"))
        target_host = fill(config.get("Host", "#{host}"))
        path = "/" + fill(config.get("Path", "/#{path}")).lstrip("/")
        query = fill(config.get("Query", "#{query}"))
        default_port = {"https": "443", "http": "80"}.get(protocol)
        netloc = target_host if port == default_port else f"{target_host}:{port}"
        location = f"{protocol}://{netloc}{path}" + (f"?{query}" if query else "")
        status = 301 if config.get("StatusCode") == "HTTP_301" else 302
        return Reply(status, [("Location", location)], b"")

    def _forward(
        self, request: Incoming, action: Mapping[str, Any], extra: list[tuple[str, str]]
    ) -> Reply:
        group_arn = action.get("TargetGroupArn")
        if not group_arn:
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            weighted = [g for g in groups if int(g.get("Weight", 1)) > 0]
            if not weighted:
                return alb_page(503)
            group_arn = weighted[0]["TargetGroupArn"]
        elbv2 = self._clients["elbv2"]
        try:
            group = elbv2.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0]
        except Exception:
            return alb_page(503)
        targets = [
            d["Target"]
            for d in elbv2.describe_target_health(TargetGroupArn=group_arn)[
                "TargetHealthDescriptions"
            ]
        ]
        if not targets:
            return alb_page(503)
        # The ALB strips what a client could forge, then adds its own.
        headers = [(k, v) for k, v in request.headers if k.lower() not in ALB_HEADERS]
        headers += [
            ("X-Forwarded-For", request.client_ip),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "443"),
            ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"),
            *extra,
        ]
        if group.get("TargetType") == "lambda":
            return self._invoke(group, targets[0]["Id"], request, headers)
        self._round_robin += 1
        target = targets[self._round_robin % len(targets)]
        return self._proxy(target, group, request, headers)

    def _invoke(
        self,
        group: Mapping[str, Any],
        function_arn: str,
        request: Incoming,
        headers: list[tuple[str, str]],
    ) -> Reply:
        attributes = {
            a["Key"]: a["Value"]
            for a in self._clients["elbv2"].describe_target_group_attributes(
                TargetGroupArn=group["TargetGroupArn"]
            )["Attributes"]
        }
        multi_value = attributes.get(lambda_target.MULTI_VALUE_ATTRIBUTE) == "true"
        event = lambda_target.event(
            group["TargetGroupArn"],
            request.method,
            request.path,
            request.query,
            headers,
            request.body,
            multi_value,
        )
        try:
            answer = self._clients["lambda"].invoke(
                FunctionName=function_arn, Payload=json.dumps(event).encode()
            )
            payload = answer["Payload"].read()
            return lambda_target.reply(payload, "FunctionError" in answer, multi_value)
        except lambda_target.BadLambdaResponse:
            return alb_page(502)
        except Exception:  # the function is gone or Lambda failed
            return alb_page(502)

    def _proxy(
        self,
        target: Mapping[str, Any],
        group: Mapping[str, Any],
        request: Incoming,
        headers: list[tuple[str, str]],
    ) -> Reply:
        port = int(target.get("Port") or group.get("Port") or 443)
        local = self.web_servers(target["Id"], port)
        if local is None:
            return alb_page(502)  # nothing answers at that address
        connection = http.client.HTTPConnection(*local, timeout=10)
        try:
            path = request.path + (f"?{request.query}" if request.query else "")
            connection.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP:
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        except OSError:
            return alb_page(502)
        finally:
            connection.close()
