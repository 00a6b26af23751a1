"""The local ALB front's rule evaluation, against the ELBv2 documentation:

- rules in priority order, lowest first; the default rule last;
- values of one condition are alternatives, a rule's conditions must all match;
- host-header: not case sensitive, `*` and `?`; path-pattern: case sensitive, `*` and `?`, the
  path only (not the query); query-string: key/value pairs or values, not case sensitive, `*`
  and `?`, `\\*` / `\\?` for literal characters, any character may be percent-encoded;
  http-request-method: exact.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.front import rules
from devstack.front.rules import Request, select, wildcard_match


def rule(priority: int | str, *conditions: dict[str, Any], name: str = "") -> dict[str, Any]:
    return {
        "RuleArn": name or f"rule-{priority}",
        "Priority": str(priority),
        "Conditions": list(conditions),
        "Actions": [{"Type": "fixed-response", "Order": 1}],
        "IsDefault": priority == "default",
    }


def host(*values: str) -> dict[str, Any]:
    return {"Field": "host-header", "HostHeaderConfig": {"Values": list(values)}}


def path(*values: str) -> dict[str, Any]:
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def query(*pairs: tuple[str | None, str]) -> dict[str, Any]:
    values = [{"Value": v} if k is None else {"Key": k, "Value": v} for k, v in pairs]
    return {"Field": "query-string", "QueryStringConfig": {"Values": values}}


def method(*values: str) -> dict[str, Any]:
    return {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": list(values)}}


def get(url_path: str, query_string: str = "", host_header: str = "a.example.com") -> Request:
    return Request("GET", host_header, url_path, query_string)


DEFAULT = rule("default")


def chosen(rule_list: list[dict[str, Any]], request: Request) -> str:
    found = select(rule_list, request)
    assert found is not None
    return found["RuleArn"]


# --- priority ------------------------------------------------------------------------------


def test_lowest_priority_number_wins_whatever_the_order_rules_are_listed_in() -> None:
    listed = [rule(20001, host("a.example.com")), rule(10000, path("/x")), rule(1, path("/x"))]
    assert chosen([*listed, DEFAULT], get("/x")) == "rule-1"
    assert chosen([DEFAULT, *reversed(listed)], get("/x")) == "rule-1"


def test_priorities_compare_as_numbers_not_strings() -> None:
    assert chosen([rule(10000, path("/x")), rule(9, path("/x")), DEFAULT], get("/x")) == "rule-9"


def test_the_default_rule_answers_only_when_nothing_else_matches() -> None:
    listed = [DEFAULT, rule(5, path("/x"))]
    assert chosen(listed, get("/y")) == "rule-default"
    assert chosen(listed, get("/x")) == "rule-5"


def test_every_condition_of_a_rule_must_match() -> None:
    login = rule(1001, host("a.example.com"), path("/login"), query(("login", "true")))
    listed = [login, rule(10000, path("/login")), DEFAULT]
    assert chosen(listed, get("/login", "login=true")) == "rule-1001"
    assert chosen(listed, get("/login")) == "rule-10000"
    assert chosen(listed, get("/login", "login=true", "b.example.com")) == "rule-10000"


def test_values_of_one_condition_are_alternatives() -> None:
    logout = rule(1, path("/logout", "/logout/"))
    assert chosen([logout, DEFAULT], get("/logout/")) == "rule-1"
    assert chosen([logout, DEFAULT], get("/logout")) == "rule-1"
    assert chosen([logout, DEFAULT], get("/logoutx")) == "rule-default"


# --- host-header ---------------------------------------------------------------------------


def test_host_header_is_not_case_sensitive_and_ignores_the_port() -> None:
    listed = [rule(1, host("analytics.airflow.localhost")), DEFAULT]
    assert chosen(listed, get("/", host_header="Analytics.AIRFLOW.localhost:8080")) == "rule-1"
    assert chosen(listed, get("/", host_header="reporting.airflow.localhost")) == "rule-default"


def test_host_header_wildcards() -> None:
    listed = [rule(1, host("*.example.com")), rule(2, host("a?.test")), DEFAULT]
    assert chosen(listed, get("/", host_header="deep.sub.example.com")) == "rule-1"
    assert chosen(listed, get("/", host_header="example.com")) == "rule-default"
    assert chosen(listed, get("/", host_header="ab.test")) == "rule-2"
    assert chosen(listed, get("/", host_header="abc.test")) == "rule-default"


# --- path-pattern --------------------------------------------------------------------------


def test_path_pattern_is_case_sensitive() -> None:
    listed = [rule(1, path("/aws_mwaa/aws-console-sso")), DEFAULT]
    assert chosen(listed, get("/aws_mwaa/aws-console-sso")) == "rule-1"
    assert chosen(listed, get("/AWS_MWAA/aws-console-sso")) == "rule-default"


def test_path_pattern_wildcards_star_and_question_mark() -> None:
    listed = [rule(1, path("/api/*")), rule(2, path("/v?/items")), DEFAULT]
    assert chosen(listed, get("/api/")) == "rule-1"
    assert chosen(listed, get("/api/a/b/c")) == "rule-1"
    assert chosen(listed, get("/v1/items")) == "rule-2"
    assert chosen(listed, get("/v10/items")) == "rule-default"
    assert chosen(listed, get("/v/items")) == "rule-default"


def test_path_pattern_never_looks_at_the_query() -> None:
    listed = [rule(1, path("/a")), DEFAULT]
    assert chosen(listed, get("/a", "x=/b")) == "rule-1"
    assert chosen([rule(1, path("*login=true*")), DEFAULT], get("/a", "login=true")) == (
        "rule-default"
    )


def test_regex_values_are_refused_rather_than_ignored() -> None:
    regex = {"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/a$"]}}
    with pytest.raises(rules.UnsupportedCondition):
        select([rule(1, regex), DEFAULT], get("/a"))


# --- query-string --------------------------------------------------------------------------


def test_query_key_value_pair_is_not_case_sensitive() -> None:
    listed = [rule(1, query(("login", "true"))), DEFAULT]
    assert chosen(listed, get("/", "LOGIN=True")) == "rule-1"
    assert chosen(listed, get("/", "login=false")) == "rule-default"
    assert chosen(listed, get("/", "other=1&login=true")) == "rule-1"
    assert chosen(listed, get("/", "")) == "rule-default"


def test_query_value_without_a_key_matches_any_key() -> None:
    listed = [rule(1, query((None, "blue"))), DEFAULT]
    assert chosen(listed, get("/", "colour=blue")) == "rule-1"
    assert chosen(listed, get("/", "blue=colour")) == "rule-default"


def test_query_wildcards_and_escaped_literals() -> None:
    listed = [rule(1, query(("v", "a*"))), rule(2, query(("q", r"what\?"))), DEFAULT]
    assert chosen(listed, get("/", "v=abc")) == "rule-1"
    assert chosen(listed, get("/", "q=what%3F")) == "rule-2"
    assert chosen(listed, get("/", "q=whatx")) == "rule-default"


def test_query_values_compare_percent_decoded() -> None:
    listed = [rule(1, query(("login", "true"))), DEFAULT]
    assert chosen(listed, get("/", "log%69n=%74rue")) == "rule-1"


def test_several_query_conditions_must_all_match() -> None:
    both = rule(1, query(("a", "1")), query(("b", "2")))
    assert chosen([both, DEFAULT], get("/", "a=1&b=2")) == "rule-1"
    assert chosen([both, DEFAULT], get("/", "a=1")) == "rule-default"


# --- http-request-method -------------------------------------------------------------------


def test_http_request_method_is_exact() -> None:
    listed = [rule(1, method("POST")), DEFAULT]
    assert chosen(listed, Request("POST", "h", "/")) == "rule-1"
    assert chosen(listed, Request("post", "h", "/")) == "rule-default"
    assert chosen(listed, Request("GET", "h", "/")) == "rule-default"


# --- wildcard matching as a whole ------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@given(TEXT)
def test_a_star_matches_anything_and_a_pattern_without_wildcards_only_itself(value: str) -> None:
    assert wildcard_match("*", value, ignore_case=False)
    literal = value.replace("*", "").replace("?", "")
    assert wildcard_match(literal, literal, ignore_case=False)
    assert not wildcard_match(literal, literal + "x", ignore_case=False)


@given(TEXT, TEXT)
def test_regex_characters_in_a_pattern_are_plain_characters(prefix: str, value: str) -> None:
    pattern = prefix.replace("*", "").replace("?", "") + ".+[](){}|^$"
    assert wildcard_match(pattern, pattern, ignore_case=False)
    assert not wildcard_match(pattern, value + "x", ignore_case=False) or value + "x" == pattern


# --- hostile requests ----------------------------------------------------------------------

ANY_TEXT = st.text(max_size=60)
LISTENER = [
    rule(1, path("/logout", "/logout/")),
    rule(1001, host("a.airflow.localhost"), path("/aws_mwaa/*"), query(("login", "true"))),
    rule(10000, path("/aws_mwaa/aws-console-sso")),
    rule(20001, host("*.airflow.localhost"), method("GET", "POST")),
    DEFAULT,
]


@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_any_request_gets_exactly_one_rule_and_never_an_error(
    verb: str, host_header: str, url_path: str, query_string: str
) -> None:
    found = select(LISTENER, Request(verb, host_header, url_path, query_string))
    assert found is not None and found in LISTENER


@given(st.sampled_from(["%", "%zz", "%c3%28", "a=%", "=", "&&", "login=tru%65", "login=true\x00"]))
def test_broken_percent_encoding_never_raises(query_string: str) -> None:
    assert select(LISTENER, get("/aws_mwaa/x", query_string, "a.airflow.localhost")) is not None
