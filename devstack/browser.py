"""The browser journey's local stack: the local stack (devstack/stack.py) plus the dev OIDC
IdP, the local ALB front and the MWAA web server stand-ins, wired together.

    browser ─► front (http://<env>.airflow.localhost:<port>, the portal on
               http://airflow.localhost:<port>) ─► authX (in devstack's Lambda)
                 │  authenticate-oidc ─► dev IdP (http://idp.localhost:<idp port>), or
                 │  authenticate-cognito ─► dev IdP as the user pool's domain
                 │  (http://auth.airflow.localhost:<idp port>, `BrowserStack(sign_in="cognito")`)
                 └─ forward (IP target group) ─► the environment's web server stand-in

Used by `make up` (scripts/up.py), the browser tests and bench/browser_signin.py.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any

from devstack import landscape
from devstack.front.origins import LocalOrigins
from devstack.front.server import Front
from devstack.idp import IdentityProvider, User
from devstack.process import free_port
from devstack.stack import LocalStack
from devstack.webserver import Fleet

BASE_DOMAIN = "airflow.localhost"
IDP_HOST = "idp.localhost"
CLIENT_ID = "mwaa-gate"
CLIENT_SECRET = "devstack-oidc-secret"  # noqa: S105 - the landscape's sample secret
# authenticate-cognito: the user pool's custom domain, served by the dev IdP (as the hosted UI
# of a pool that federates a SAML IdP: the groups arrive as `custom:idp-groups`, "[a, b]").
COGNITO_DOMAIN = "auth.airflow.localhost"
COGNITO_GROUPS_ATTRIBUTE = "custom:idp-groups"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/devstack"
SAMPLE_USERS = (
    User("alice@example.com", "Alice", ("data-team",)),
    User("bob@example.com", "Bob", ("data-team",)),
    User("carol@example.com", "Carol", ()),
)


class BrowserStack(LocalStack):
    def __init__(
        self,
        stack: contextlib.ExitStack,
        front_port: int = 0,
        idp_port: int = 0,
        create_seconds: str = "0",
        presets: Iterable[User] = SAMPLE_USERS,
        sign_in: str = "oidc",
    ):
        super().__init__(stack, create_seconds=create_seconds)
        if sign_in not in ("oidc", "cognito"):
            raise ValueError("sign_in is 'oidc' or 'cognito'")
        self.sign_in = sign_in
        self.front_port = front_port or free_port()
        self.idp_port = idp_port
        self.presets = list(presets)
        self.idp: IdentityProvider | None = None
        self.front: Front | None = None
        self.fleet: Fleet | None = None
        self.cognito_client_id = ""  # the user pool's app client, with sign_in="cognito"

    def start(self) -> None:
        """devstack, IdP, landscape and platform setup, the front, `chalice local`."""
        self.start_devstack()
        self.idp_port = self.idp_port or free_port()
        domain = re.escape(BASE_DOMAIN)
        label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
        self.idp = IdentityProvider(
            CLIENT_ID,
            CLIENT_SECRET,
            # Every environment host, and the portal on BASE_DOMAIN itself.
            redirect_uri_pattern=(
                rf"http://(?:{label}\.)?{domain}:{self.front_port}/oauth2/idpresponse"
            ),
            post_logout_pattern=rf"https://(?:{label}\.)?{domain}/logout/close",
            local_url=LocalOrigins(self.front_port, {IDP_HOST: self.idp_port}).to_local,
            presets=self.presets,
            port=self.idp_port,
            browser_host=IDP_HOST,
            groups_attribute=COGNITO_GROUPS_ATTRIBUTE if self.sign_in == "cognito" else None,
        ).start()
        self.idp_port = self.idp.port
        self.stack.callback(self.idp.stop)
        self.step(f"dev OIDC identity provider at {self.idp.issuer}")
        settings = self.build_landscape(base_domain=BASE_DOMAIN)
        settings |= self.cognito_settings() if self.sign_in == "cognito" else self.oidc_settings()
        report = self.platform_setup(settings)
        self.step(f"platform setup: {report.summary()}")
        assert self.server is not None
        self.fleet = Fleet(self.server.url)
        self.stack.callback(self.fleet.stop)
        self.front = Front(
            aws_url=self.server.url,
            listener_arn=self.landscape["listener_arn"],
            signing_key=self.signing_key,
            web_servers=self.fleet.lookup,
            port=self.front_port,
            local_ports={IDP_HOST: self.idp_port, COGNITO_DOMAIN: self.idp_port},
            cognito_domains={COGNITO_DOMAIN: f"http://{COGNITO_DOMAIN}:{self.idp_port}"},
        ).start()
        self.stack.callback(self.front.stop)
        self.step(f"local ALB front on http://*.{BASE_DOMAIN}:{self.front.port}")
        self.start_chalice_local()

    def oidc_settings(self) -> dict[str, str]:
        assert self.idp is not None
        endpoints = self.idp.endpoints()
        return {
            "OIDC_ISSUER": endpoints["issuer"],
            "OIDC_AUTHORIZATION_ENDPOINT": endpoints["authorization_endpoint"],
            "OIDC_TOKEN_ENDPOINT": endpoints["token_endpoint"],
            "OIDC_USER_INFO_ENDPOINT": endpoints["userinfo_endpoint"],
            "OIDC_CLIENT_ID": CLIENT_ID,
            # authX wants https (as in AWS); the front maps it to the IdP's local port.
            "IDP_LOGOUT_URL": f"https://{IDP_HOST}/logout?client_id={CLIENT_ID}",
        }

    def cognito_settings(self) -> dict[str, str]:
        """A user pool in devstack (moto's Cognito), its custom domain and an app client with
        a secret; the dev IdP accepts that client. Platform setup derives authX's logout URL
        (the domain's `/logout?client_id=…&logout_uri=…`)."""
        assert self.idp is not None
        cognito = self.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="mwaa-users")["UserPool"]
        cognito.create_user_pool_domain(
            Domain=COGNITO_DOMAIN,
            UserPoolId=pool["Id"],
            CustomDomainConfig={"CertificateArn": CERTIFICATE},
        )
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="mwaa-gate",
            GenerateSecret=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            AllowedOAuthFlowsUserPoolClient=True,
            LogoutURLs=[f"https://{BASE_DOMAIN}/logout/close"],
        )["UserPoolClient"]
        self.idp.add_client(client["ClientId"], client["ClientSecret"])
        self.cognito_client_id = client["ClientId"]
        return {
            "ALB_AUTH_ACTION": "authenticate-cognito",
            "COGNITO_USER_POOL_ARN": pool["Arn"],
            "COGNITO_USER_POOL_CLIENT_ID": client["ClientId"],
            "COGNITO_USER_POOL_DOMAIN": COGNITO_DOMAIN,
            "COGNITO_SCOPE": "openid email profile",
            "GROUPS_CLAIM": COGNITO_GROUPS_ATTRIBUTE,
        }

    def onboard_private(
        self, names: Iterable[str], airflow_version: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Private MWAA environments (one VPC each), attached and READY; their records."""
        names = list(names)
        for index, name in enumerate(names):
            network = landscape.environment_network(self.client, f"10.{len(self._vpcs()) + 1}")
            del index
            self.create_private_environment(name, network, airflow_version)
        for name in names:
            self.wait_available(name)
            self.script("onboard-environment", name, "--attach")
        return {name: self.wait_for(name, "READY") for name in names}

    def _vpcs(self) -> list[Any]:
        return self.client("ec2").describe_vpcs()["Vpcs"]

    def portal_url(self) -> str:
        """The portal (`GET /` on BASE_DOMAIN, the default PORTAL_HOST) as the browser opens it."""
        assert self.front is not None
        return self.front.url(BASE_DOMAIN, "/")

    def login_url(self, record: dict[str, Any]) -> str:
        """The environment's login URL as the browser opens it on this machine."""
        assert self.front is not None
        return self.front.origins.to_local(record["login_url"])
