"""The parts of docs/openapi.yaml that are computed from the code, so that they never drift.

`python scripts/openapi_parts.py` rewrites everything after the marker line at the end of
docs/openapi.yaml (the last schemas of `components.schemas`); tests/api/test_contract.py
checks that the file holds exactly what this prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from chalicelib.api import grant_ids, mwaa_model, validation  # noqa: E402
from chalicelib.api.unicode_classes import char_class  # noqa: E402
from chalicelib.records import pagination  # noqa: E402

SPEC = PROJECT_DIR / "docs" / "openapi.yaml"
MARKER = "    # --- computed by scripts/openapi_parts.py from the code: do not edit below ---\n"


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


# What `authx.roles.group_id_problem` refuses: controls, format characters, surrogates and
# line/paragraph separators (Cc Cf Cs Zl Zp) anywhere, whitespace at either end. Written as
# negated classes: small, and cheap for generators.
FORBIDDEN = char_class("Cc Cf Cs Zl Zp")
WHITESPACE = "".join(f"\\u{c:04x}" for c in range(sys.maxunicode + 1) if chr(c).isspace())


def _group(exclude: str = "") -> str:
    edge = f"[^{FORBIDDEN}{WHITESPACE}{exclude}]"
    inner = f"[^{FORBIDDEN}{exclude}]"
    return f"{edge}(?:{inner}{{0,{validation.MAX_GROUP_ID - 2}}}{edge})?"


def schemas() -> dict[str, Any]:
    item = f"\\u0020*(?:{_group(',')}\\u0020*)?"
    return {
        "Email": {
            "description": "an email address (ASCII); the user id is it with A-Z lower-cased,"
            " nothing else changed (DESIGN §2)",
            "type": "string",
            "maxLength": validation.MAX_EMAIL,
            "pattern": _anchored(validation.EMAIL),
        },
        "Hostname": {
            "description": "a DNS host name (stored lower-cased); the last label starts with a"
            " letter",
            "type": "string",
            "maxLength": validation.MAX_HOSTNAME,
            "pattern": _anchored(validation.HOSTNAME),
        },
        "GroupId": {
            "description": "exact, never trimmed or folded (DESIGN §2): no control, format or"
            " line/paragraph separator characters, no whitespace at either end",
            "type": "string",
            "minLength": 1,
            "maxLength": validation.MAX_GROUP_ID,
            "pattern": _anchored(_group()),
        },
        "GroupList": {
            "description": "group ids separated by commas; ASCII spaces around them trimmed,"
            " blanks dropped",
            "type": "string",
            "pattern": _anchored(f"{item}(?:,{item})*"),
        },
        "DateTime": {
            "description": "RFC 3339 (ISO 8601) with a time zone, up to 9999-12-31T23:59:59Z in"
            " UTC, in the future",
            "type": "string",
            "format": "date-time",
            "pattern": _anchored(validation.DATE_TIME),
        },
        "GrantId": {
            "description": "opaque, URL-safe (base64url); one of this form that names no grant"
            " is 404",
            "type": "string",
            "minLength": 1,
            "maxLength": grant_ids.MAX_ID_CHARS,
            "pattern": "^[A-Za-z0-9_-]+$",
        },
        "Token": {
            "description": "opaque, URL-safe (base64url)",
            "type": "string",
            "minLength": 1,
            "maxLength": pagination.MAX_TOKEN_CHARS,
            "pattern": "^[A-Za-z0-9_-]+$",
        },
        "CreateParameters": {
            "description": "MWAA CreateEnvironment parameters without Name, from botocore's MWAA"
            " model; WebserverAccessMode PUBLIC_ONLY or PRIVATE_ONLY (absent = PRIVATE_ONLY)",
            **mwaa_model.create_json_schema(),
        },
    }


def text() -> str:
    """The YAML after the marker: one flow (JSON) mapping per schema, 4 spaces in."""
    lines = []
    for name, schema in schemas().items():
        lines.append(f"    {name}: {json.dumps(schema, ensure_ascii=False)}\n")
    return "".join(lines)


def main() -> None:
    current = SPEC.read_text(encoding="utf-8")
    head = current.split(MARKER)[0]
    SPEC.write_text(head + MARKER + text(), encoding="utf-8")


if __name__ == "__main__":
    main()
