"""Pure rules of the workflows: backoff, names, priorities, failure reports, ASL rendering."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib import state_machines
from chalicelib.workflow import mwaa_env, network, routing, steps, targets

PRODUCTION = {"poll_seconds": 60, "poll_max_seconds": 600, "backoff": 2, "deadline_seconds": 7200}


def test_poll_wait_backs_off_and_is_capped() -> None:
    wait = {"seconds": 60}
    seen = []
    for _ in range(6):
        wait = {"seconds": mwaa_env.next_seconds(wait, PRODUCTION)}
        seen.append(wait["seconds"])
    assert seen == [120, 240, 480, 600, 600, 600]


def test_poll_wait_is_at_least_a_second() -> None:
    assert mwaa_env.next_seconds({"seconds": 1}, {**PRODUCTION, "backoff": 0.1}) == 1


@pytest.mark.parametrize(
    ("name", "host"),
    [("Sales_ETL", "sales-etl.airflow.example.com"), ("env-1", "env-1.airflow.example.com")],
)
def test_default_host_is_a_dns_name(name: str, host: str) -> None:
    assert routing.default_host(name, "airflow.example.com") == host


def test_priorities_put_login_rules_before_authx_and_host_rules_after() -> None:
    login, authx, host = routing.priorities(7)
    assert (login, authx, host) == (1007, 2007, 20007)
    assert login < authx < 10000 < host


def test_target_group_names_fit_elbv2_and_differ_per_environment() -> None:
    first, second = targets.target_group_name("a" * 80), targets.target_group_name("b" * 80)
    assert len(first) <= 32 and len(second) <= 32
    assert first != second
    assert targets.target_group_name("a" * 80) == first


def test_overlapping_cidrs() -> None:
    assert network.overlapping(["10.1.0.0/16"], ["10.1.5.0/24"]) == [("10.1.0.0/16", "10.1.5.0/24")]
    assert network.overlapping(["10.1.0.0/16"], ["10.2.0.0/16"]) == []


def test_a_lambda_failure_is_reported_by_its_message_without_the_stack() -> None:
    cause = json.dumps(
        {
            "errorMessage": "ec2:CreateRoute failed",
            "errorType": "AwsCallFailed",
            "stackTrace": ["x"],
        }
    )
    error = steps._failure({"failure": {"Error": "AwsCallFailed", "Cause": cause}})
    assert error == {"code": "AwsCallFailed", "cause": "ec2:CreateRoute failed"}


def test_a_states_error_is_renamed_for_the_fail_state_but_kept_on_the_record() -> None:
    error = steps._failure({"failure": {"Error": "States.Timeout", "Cause": "took too long"}})
    assert error == {"code": "States.Timeout", "cause": "took too long"}
    assert steps._outcome("FAILED", error) == {
        "status": "FAILED",
        "error": "Workflow.Timeout",
        "cause": "took too long",
    }


def test_rendering_fills_every_placeholder_with_a_function_arn() -> None:
    names = state_machines.placeholders("onboard")
    rendered = json.loads(
        state_machines.render("onboard", state_machines.local_function_arns(names))
    )
    resources = {
        state["Parameters"]["FunctionName"]
        for state in rendered["States"].values()
        if state["Type"] == "Task"
    }
    assert resources == {
        f"arn:aws:lambda:us-east-1:123456789012:function:mwaa-gate-local-{n}" for n in names
    }


def test_rendering_refuses_to_leave_a_placeholder() -> None:
    with pytest.raises(state_machines.UnresolvedPlaceholder, match="onboard_validate"):
        state_machines.render("onboard", {})


def test_every_placeholder_is_a_lambda_function_of_the_app() -> None:
    from app import app

    functions = {function.name for function in app.pure_lambda_functions}
    for name in state_machines.NAMES:
        assert state_machines.placeholders(name) <= functions


# MWAA's environment name: a letter, then letters, digits, '-' or '_'; 1-80 characters.
MWAA_NAMES = st.from_regex(r"\A[a-zA-Z][0-9a-zA-Z_-]{0,79}\Z")
DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)


@settings(max_examples=300, deadline=None)
@given(MWAA_NAMES)
def test_every_mwaa_name_gets_a_valid_dns_label(name: str) -> None:
    host = routing.default_host(name, "airflow.example.com")
    label, _, domain = host.partition(".")

    assert domain == "airflow.example.com"
    assert DNS_LABEL.fullmatch(label), label
    assert label[2:4] != "--"  # reserved for IDNA (xn--)
    assert routing.default_host(name, "airflow.example.com") == host


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\A[0-9a-zA-Z_-]{1,17}\Z"), st.from_regex(r"\A[0-9a-zA-Z_-]{1,17}\Z"))
def test_long_names_cut_alike_still_get_different_labels(first: str, second: str) -> None:
    assume(first != second)
    common = "Analytics" + "a" * 54  # 63 characters: both names are cut inside it
    assert routing.host_label(common + first) != routing.host_label(common + second)


def test_a_name_longer_than_a_dns_label_is_shortened_with_a_hash() -> None:
    name = "Team_Analytics_" + "x" * 60 + "_prod"  # 80 characters, MWAA's maximum
    label = routing.host_label(name)

    assert len(label) == 63
    assert label.startswith("team-analytics-xxx")
    assert label == routing.host_label(name)
    assert routing.host_label("sales-") != "sales-"  # a label may not end in '-'
