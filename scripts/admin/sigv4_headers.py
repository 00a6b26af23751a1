"""SigV4 headers for one API Gateway request, as curl config lines (standard library only).

Used by lib.sh only for the requests that curl 7.88's `--aws-sigv4` signs wrongly: a path with
a character outside A-Z a-z 0-9 - _ . ~ / (the `@` of `/access/<email>`). API Gateway encodes
the path it received once more for the canonical request; curl 7.88 uses it as it is.

    python3 sigv4_headers.py METHOD URL REGION BODY_FILE

The credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
never from the command line. The query string must already be encoded and sorted (lib.sh's
`mg_query` does both).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

SERVICE = "execute-api"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def headers(
    method: str, url: str, region: str, body: bytes, environ: dict[str, str], now: datetime
) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {"host": parts.netloc, "x-amz-date": amz_date}
    token = environ.get("AWS_SESSION_TOKEN", "")
    if token:
        signed["x-amz-security-token"] = token
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/~"),
            parts.query,
            "".join(f"{name}:{signed[name].strip()}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + environ["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (day, region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={environ['AWS_ACCESS_KEY_ID']}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    result = [("Authorization", authorization), ("X-Amz-Date", amz_date)]
    if token:
        result.append(("x-amz-security-token", token))
    return result


def curl_config_line(name: str, value: str) -> str:
    escaped = f"{name}: {value}".replace("\\", "\\\\").replace('"', '\\"')
    return f'header = "{escaped}"'


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    method, url, region, body_file = argv
    with open(body_file, "rb") as handle:
        body = handle.read()
    for name, value in headers(method, url, region, body, dict(os.environ), datetime.now(UTC)):
        print(curl_config_line(name, value))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
