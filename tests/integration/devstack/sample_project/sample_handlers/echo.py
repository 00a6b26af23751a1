"""A plain Lambda handler of the sample project (not a Chalice function), like authX."""

import os


def handler(event, context):
    return {"said": event.get("say"), "colour": os.environ.get("COLOUR")}
