"""A tiny Chalice project used to test devstack's in-process Lambda dispatch."""

import os

import boto3
from chalice import Chalice

app = Chalice(app_name="sample")


@app.lambda_function(name="describe")
def describe(event, context):
    """Reads the environment it is given through MWAA, as a workflow step would."""
    environment = boto3.client("mwaa").get_environment(Name=event["name"])["Environment"]
    return {
        "name": environment["Name"],
        "status": environment["Status"],
        "greeting": os.environ["GREETING"],
        "stage_only": os.environ.get("STAGE_ONLY"),
        "runtime": os.environ.get("RUNTIME_SETTING"),
        "function_name": context.function_name,
    }


@app.lambda_function(name="explode")
def explode(event, context):
    raise ValueError(f"cannot handle {event.get('what', 'this')}")
