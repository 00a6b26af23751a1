"""The ALB side of a login, emulated: its public-key service and its signed user-claims tokens.

Tokens are minted exactly as the ALB does: ES256 over `header.payload`, every segment base64url
*with* padding, `kid`/`signer`/`exp` in the header. The key service is a real HTTP server on
127.0.0.1 serving PEM keys at `/<kid>` and recording every fetch.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authx.airflow_paths import AUTHX_LOGIN_PATH

ALB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/gate/50dc6c495c0c9188"
)
OTHER_ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/1111"
ISSUER = "https://idp.example.com"
CLIENT_ID = "mwaa-gate"  # the landscape's OIDC_CLIENT_ID: tokens as its ALB rule writes them
LOGIN_PATH = AUTHX_LOGIN_PATH


def b64url(data: bytes) -> str:
    """base64url WITH padding, as the ALB writes its tokens."""
    return base64.urlsafe_b64encode(data).decode()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: str(uuid.uuid4()))
    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, signing_input: bytes) -> bytes:
        r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def mint(
    key: SigningKey,
    claims: dict[str, Any] | None = None,
    *,
    header: dict[str, Any] | None = None,
    header_exp: float | None = None,
    payload_exp: float | None = None,
    signer: str = ALB_ARN,
    alg: str = "ES256",
    kid: str | None = None,
) -> str:
    """An ALB-style token; `header`/`claims` override or add fields (value None removes one)."""
    now = time.time()
    head: dict[str, Any] = {
        "typ": "JWT",
        "kid": key.kid if kid is None else kid,
        "alg": alg,
        "iss": ISSUER,
        "client": CLIENT_ID,
        "signer": signer,
        "exp": int(now + 120) if header_exp is None else int(header_exp),
    }
    body: dict[str, Any] = {
        "sub": "0b8f7c1e",
        "email": "Alice@Example.com",
        "exp": int(now + 120) if payload_exp is None else int(payload_exp),
        "iss": ISSUER,
    }
    for target, changes in ((head, header), (body, claims)):
        for name, value in (changes or {}).items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    signing_input = f"{b64url(_json(head))}.{b64url(_json(body))}".encode()
    if alg == "none":
        signature = b""
    elif alg == "HS256":  # the classic confusion attack: HMAC keyed with the public key's PEM
        mac = hmac.HMAC(key.pem(), hashes.SHA256())
        mac.update(signing_input)
        signature = mac.finalize()
    else:
        signature = key.sign(signing_input)
    return f"{signing_input.decode()}.{b64url(signature)}"


class KeyServer:
    """The ALB public-key service: GET /<url-encoded kid> → PEM. Records every request path."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.fetches: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches.append(self.path)
                pem = server.keys.get(self.path)
                self.send_response(200 if pem else 404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(pem or b"not found")

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def publish(self, key: SigningKey) -> None:
        self.keys["/" + quote(key.kid, safe="")] = key.pem()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def alb_event(
    path: str = LOGIN_PATH,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str | list[str]] | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    """An ALB Lambda-target event (multi-value headers on), query URL-encoded as sent."""
    target_group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/authx/6d0ecf8"
    all_headers: dict[str, str | list[str]] = {
        "host": "gate.example.com",
        "user-agent": "devstack",
        "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
        **(headers or {}),
    }
    return {
        "requestContext": {"elb": {"targetGroupArn": target_group}},
        "httpMethod": method,
        "path": path,
        "multiValueQueryStringParameters": {
            quote(name, safe=""): [
                quote(v, safe="") for v in (value if isinstance(value, list) else [value])
            ]
            for name, value in (query or {}).items()
        },
        "multiValueHeaders": {
            name.lower(): value if isinstance(value, list) else [value]
            for name, value in all_headers.items()
        },
        "body": "",
        "isBase64Encoded": False,
    }
