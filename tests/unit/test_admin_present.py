"""scripts/admin/present.py: tables and progress lines from any answer, never a control
character on the operator's terminal, never a crash on an unexpected shape."""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

PRESENT = Path(__file__).resolve().parents[2] / "scripts" / "admin" / "present.py"
spec = importlib.util.spec_from_file_location("present", PRESENT)
assert spec and spec.loader
present = importlib.util.module_from_spec(spec)
spec.loader.exec_module(present)

UNSAFE = ("Cc", "Cf", "Zl", "Zp")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
FIELDS = (
    "name", "status", "mode", "access_mode", "airflow_version", "login_url", "error",
    "execution", "updated_at", "items", "next_token", "user", "group", "groups", "environment",
    "environments", "rbac_role", "id", "expires_at", "changes",
)  # fmt: skip
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10) | json_values


def safe(text: str) -> bool:
    return not any(unicodedata.category(c) in UNSAFE for c in text.replace("\n", ""))


@given(st.text())
def test_clean_leaves_no_control_format_or_separator_character(text: str) -> None:
    cleaned = present.clean(text)
    assert safe(cleaned) and "\n" not in cleaned
    assert len(cleaned) <= present.MAX_CELL


@settings(max_examples=300)
@given(st.sampled_from(sorted(present.TABLES)), records)
def test_every_table_takes_any_answer(kind: str, body: Any) -> None:
    shown = present.table(kind, body)
    assert isinstance(shown, str) and safe(shown)


@settings(max_examples=300)
@given(st.sampled_from(["onboard", "offboard"]), records, st.integers(0, 10**6))
def test_progress_takes_any_answer(action: str, body: Any, elapsed: int) -> None:
    state, key, line, failure = present.progress(body, action, elapsed).split("\t")
    assert state in ("running", "done", "failed")
    assert all(safe(part) and "\n" not in part for part in (key, line, failure))


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"status": "READY", "execution": {"status": "SUCCEEDED"}}, "done"),
        ({"status": "ONBOARDING", "execution": {"status": "RUNNING"}}, "running"),
        ({"status": "PENDING", "execution": {"status": "NOT_STARTED"}}, "running"),
        ({"status": "FAILED", "error": {"code": "X", "cause": "y"}}, "failed"),
        ({"status": "ONBOARDING", "execution": {"status": "ABORTED"}}, "failed"),
    ],
)
def test_when_a_wait_ends(record: dict[str, Any], expected: str) -> None:
    assert present.progress(record, "onboard", 5).split("\t")[0] == expected


def test_a_failure_names_the_step_and_the_cause() -> None:
    record = {
        "status": "FAILED",
        "error": {"code": "CidrOverlap", "cause": "10.0.0.0/16 overlaps"},
        "execution": {"status": "FAILED", "failed_step": "Validate"},
    }

    state, key, line, failure = present.progress(record, "onboard", 83).split("\t")

    assert (state, key, line) == (
        "failed",
        "FAILED · step Validate",
        "FAILED · step Validate · 1m23s",
    )
    assert failure == "failed at step Validate: CidrOverlap: 10.0.0.0/16 overlaps"


def test_the_command_reads_json_from_standard_input(capsys, monkeypatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"items": []})))
    assert present.main(["table", "grants"]) == 0
    assert capsys.readouterr().out == "no grants\n"
