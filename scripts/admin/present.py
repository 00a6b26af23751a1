"""How the admin scripts show answers on a terminal (standard library only; lib.sh runs it).

    python3 present.py table KIND < answer.json      a short table of the answer
    python3 present.py progress ACTION ELAPSED < environment.json

`table` kinds: environment, environments, grant, grants, access, reconcile. `progress` reads
GET /environments/{name} while `--wait` follows an onboarding or an offboarding (ACTION is
onboard or offboard) and prints one tab-separated line — state (`running`, `done`, `failed`),
the progress text (status, current step, elapsed), and for a failed run the failing step and
its cause. Every value shown is cleaned of control characters first: a name or an AWS error
message must not be able to move the cursor or rewrite the terminal.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any

MAX_CELL = 80
SUCCESS = {"onboard": "READY", "offboard": "OFFBOARDED"}
ENDED_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def clean(value: Any, limit: int = MAX_CELL) -> str:
    """One printable line: control, format and line-separator characters become '?'."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    text = "".join(
        "?" if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_values(rows: list[tuple[str, Any]]) -> str:
    shown = [(label, clean(value, 200)) for label, value in rows if value not in (None, "", [])]
    width = max((len(label) for label, _ in shown), default=0)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in shown)


def columns(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[clean(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _dict(value: Any) -> dict[str, Any]:
    """`value` when it is an object, else an empty one (an answer of another shape)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [_dict(item) for item in value] if isinstance(value, list) else []


def _error(record: dict[str, Any]) -> str:
    error = record.get("error")
    if isinstance(error, dict):
        code, cause = error.get("code"), error.get("cause")
        return ": ".join(str(part) for part in (code, cause) if part)
    return str(error or "")


def _execution(record: dict[str, Any]) -> dict[str, Any]:
    return _dict(record.get("execution"))


def environment(record: dict[str, Any]) -> str:
    execution = _execution(record)
    failure = _dict(execution.get("failure"))
    return key_values(
        [
            ("Name", record.get("name")),
            ("Status", record.get("status")),
            ("Mode", record.get("mode")),
            ("Access", record.get("access_mode")),
            ("Airflow", record.get("airflow_version")),
            ("Account", record.get("account_id")),
            ("Region", record.get("region")),
            ("Login URL", record.get("login_url")),
            ("Error", _error(record)),
            ("Execution", execution.get("status")),
            ("Current step", execution.get("current_step")),
            ("Failed step", execution.get("failed_step")),
            (
                "Step error",
                ": ".join(str(p) for p in (failure.get("error"), failure.get("cause")) if p),
            ),
            ("Updated", record.get("updated_at")),
        ]
    )


def _page(body: dict[str, Any], text: str) -> str:
    token = body.get("next_token")
    return f"{text}\n(more: --next-token {clean(token, 2000)})" if token else text


def environments(body: dict[str, Any]) -> str:
    rows = [
        [
            item.get("name"),
            item.get("status"),
            item.get("access_mode"),
            item.get("airflow_version"),
            item.get("login_url") or _error(item),
        ]
        for item in _items(body.get("items"))
    ]
    if not rows:
        return _page(body, "no environments")
    return _page(body, columns(["NAME", "STATUS", "ACCESS", "AIRFLOW", "LOGIN URL / ERROR"], rows))


def _principal(grant: dict[str, Any]) -> str:
    if "user" in grant:
        return f"user {clean(grant['user'])}"
    return f"group {clean(grant.get('group', ''))}"


def grant(body: dict[str, Any]) -> str:
    return key_values(
        [
            ("Id", body.get("id")),
            ("Principal", _principal(body)),
            ("Environment", body.get("environment")),
            ("Role", body.get("rbac_role")),
            ("Expires", body.get("expires_at")),
            ("Created", body.get("created_at")),
            ("By", body.get("created_by")),
        ]
    )


def grants(body: dict[str, Any]) -> str:
    rows = [
        [_principal(g), g.get("environment"), g.get("rbac_role"), g.get("expires_at"), g.get("id")]
        for g in _items(body.get("items"))
    ]
    if not rows:
        return _page(body, "no grants")
    return _page(body, columns(["PRINCIPAL", "ENVIRONMENT", "ROLE", "EXPIRES", "ID"], rows))


def access(body: dict[str, Any]) -> str:
    head = key_values([("User", body.get("user")), ("Groups", body.get("groups"))])
    rows = [
        [e.get("environment"), e.get("rbac_role"), e.get("status"), e.get("login_url")]
        for e in _items(body.get("environments"))
    ]
    table = columns(["ENVIRONMENT", "ROLE", "STATUS", "LOGIN URL"], rows) if rows else "no access"
    return f"{head}\n\n{table}"


def reconcile(body: dict[str, Any]) -> str:
    record = _dict(body.get("environment")) or body
    changes = body.get("changes", body.get("changed"))
    if isinstance(changes, dict):
        changes = [f"{key}: {value}" for key, value in changes.items()]
    elif changes is None:
        changes = []
    shown = ", ".join(clean(c) for c in changes) if isinstance(changes, list) else clean(changes)
    return environment(record) + "\n" + key_values([("Changed", shown or "nothing")])


def table(kind: str, body: Any) -> str:
    """The table of `kind` for an answer of any shape (another shape shows empty fields)."""
    return TABLES[kind](_dict(body))


TABLES = {
    "environment": environment,
    "environments": environments,
    "grant": grant,
    "grants": grants,
    "access": access,
    "reconcile": reconcile,
}


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def progress(answer: Any, action: str, elapsed: int) -> str:
    """`state<TAB>what changed<TAB>progress line<TAB>failure` for `--wait` (`what changed` is
    the line without the elapsed time: a log that is not a terminal gets a line per change)."""
    record = _dict(answer)
    status = str(record.get("status") or "?")
    execution = _execution(record)
    step = execution.get("current_step") or execution.get("failed_step") or ""
    key = f"{clean(status)} · step {clean(step)}" if step else clean(status)
    line = f"{key} · {_duration(elapsed)}"
    if status == SUCCESS[action]:
        return f"done\t{key}\t{line}\t"
    ended = execution.get("status") in ENDED_EXECUTION
    if status in ("FAILED", "DEGRADED") or (ended and status != SUCCESS[action]):
        failure = _dict(execution.get("failure"))
        where = execution.get("failed_step") or "?"
        cause = _error(record) or ": ".join(
            str(p) for p in (failure.get("error"), failure.get("cause")) if p
        )
        if not cause and ended and status != "FAILED":
            cause = f"the workflow ended {execution.get('status')} with the record {status}"
        return f"failed\t{key}\t{line}\tfailed at step {clean(where)}: {clean(cause, 500)}"
    return f"running\t{key}\t{line}\t"


def main(argv: list[str]) -> int:
    try:
        body = json.load(sys.stdin)
    except ValueError:
        print("(the answer is not JSON)", file=sys.stderr)
        return 1
    if argv[:1] == ["table"] and len(argv) == 2 and argv[1] in TABLES:
        print(table(argv[1], body))
        return 0
    if argv[:1] == ["progress"] and len(argv) == 3 and argv[1] in SUCCESS:
        print(progress(body, argv[1], int(argv[2])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
