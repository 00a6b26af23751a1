"""The per-version path table (authx/airflow_paths.py): defaults, overrides, hostile input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authx import airflow_paths
from authx.airflow_paths import AirflowPathsError, for_version, major, parse
from chalicelib.workflow import routing


def test_defaults_follow_the_major_version() -> None:
    assert for_version("2.10.3", parse(None)).web_login == "/aws_mwaa/aws-console-sso"
    assert for_version("3.0.6", parse(None)).web_login == "/pluginsv2/aws_mwaa/aws-console-sso"
    assert for_version("3.0.6", parse(None)).no_session == "/auth/login/"
    assert for_version("3.0.6", parse(None)).programmatic_login == "/pluginsv2/aws_mwaa/login"
    assert for_version(None, parse(None)) == airflow_paths.DEFAULTS[2]  # records before 3


@pytest.mark.parametrize("version", ["4.0.0", "1.10.12"])
def test_a_major_without_paths_is_refused(version: str) -> None:
    with pytest.raises(AirflowPathsError, match="no paths are known"):
        for_version(version, parse(None))


@pytest.mark.parametrize(
    "version", ["3", "3.0.6", "10.1", "3.0.6.1"], ids=["major", "full", "two-digit", "four"]
)
def test_versions_parse(version: str) -> None:
    assert major(version) == int(version.split(".")[0])


@pytest.mark.parametrize("version", ["v3", "3.x", " 3.0", "３.0", "3.0.6\n", "-1", "", 3.0])
def test_versions_that_are_not_versions(version: object) -> None:
    if version == "":
        assert major(version) == 2
        return
    with pytest.raises(AirflowPathsError):
        major(version)


def test_an_override_replaces_only_the_fields_given() -> None:
    table = parse(json.dumps({"3": {"web_login": "/custom/sso", "logout": ["/auth/out"]}}))

    assert table[3].web_login == "/custom/sso"
    assert table[3].logout == ("/auth/out",)
    assert table[3].no_session == "/auth/login/"
    assert table[2] == airflow_paths.DEFAULTS[2]


def test_a_new_major_needs_every_field() -> None:
    with pytest.raises(AirflowPathsError, match="give"):
        parse(json.dumps({"4": {"web_login": "/x"}}))
    full = {
        "web_login": "/a",
        "no_session": "/b/",
        "logout": ["/c"],
        "programmatic_login": "/d",
        "health_check": "/e",
        "session_cookies": ["f"],
    }
    assert parse(json.dumps({"4": full}))[4].no_session == "/b/"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"three": {}}',
        '{"3": []}',
        '{"3": {"weblogin": "/x"}}',
        '{"3": {"web_login": "x"}}',
        '{"3": {"web_login": "/a b"}}',
        '{"3": {"web_login": "/a?login=true"}}',
        '{"3": {"web_login": "/a#t"}}',
        '{"3": {"web_login": "/a*"}}',
        '{"3": {"web_login": "//evil.example.com/x"}}',
        '{"3": {"web_login": "/a\\r\\nSet-Cookie: x=1"}}',
        '{"3": {"web_login": 3}}',
        '{"3": {"logout": "/auth/logout"}}',
        '{"3": {"logout": []}}',
        '{"3": {"logout": ["/a", "/b", "/c", "/d"]}}',
        '{"3": {"session_cookies": ["a=b"]}}',
        '{"3": {"web_login": "/' + "a" * 200 + '"}}',
        '{"0": {}}',
    ],
)
def test_hostile_overrides_are_refused(raw: str) -> None:
    with pytest.raises(AirflowPathsError):
        parse(raw)


@given(st.text(max_size=60))
def test_any_web_login_override_is_a_safe_path_or_refused(value: str) -> None:
    try:
        table = parse(json.dumps({"3": {"web_login": value}}))
    except AirflowPathsError:
        return
    path = table[3].web_login
    assert path.startswith("/") and not path.startswith("//")
    assert not any(c in path for c in '?#* \r\n\t"<>\\')
    assert path.isascii() and len(path) <= 128


def test_airflow_2_keeps_two_rules_and_airflow_3_takes_three() -> None:
    table = parse(None)

    assert routing.authx_paths(table[2]) == []
    assert routing.authx_paths(table[3]) == ["/auth/login/", "/auth/logout", "/auth/logout/"]
    assert routing.rules_needed(table[2]) == 2
    assert routing.rules_needed(table[3]) == 3
    assert routing.rules_needed(None) == 3
    rules = routing.wanted_rules("h.example.com", 4, table[3])
    assert [r.priority for r in rules] == [1004, 2004, 20004]
    values = sum(
        len(c.get("PathPatternConfig", {}).get("Values", [1])) for c in rules[1].conditions
    )
    assert values <= 5  # ELBv2: at most 5 condition values per rule
