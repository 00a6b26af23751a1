"""A dev OpenID Connect identity provider for the local browser journey (Authlib + Flask).

`IdentityProvider(port).start()` serves discovery, authorize (a page to choose or type a
user, their email and groups; an IdP session cookie so that a second sign-in does not ask
again), token, userinfo, JWKS and RP-initiated end-session — standard OIDC messages, so any
client can use it. Paths under `/oauth2/` and `/logout` also answer as a Cognito user pool
domain does.
"""

from .server import IdentityProvider, User

__all__ = ["IdentityProvider", "User"]
