"""mwaa-gate admin app (AWS Chalice).

Thin by design (DESIGN §1): routes of the admin API and the pure Lambda functions that the
state machines call; each delegates to chalicelib.
"""

from chalice import Chalice, IAMAuthorizer, Rate

from chalicelib.api import handlers, settings
from chalicelib.api.http import handled
from chalicelib.workflow import reconcile, steps
from chalicelib.workflow import settings as workflow_settings

app = Chalice(app_name="mwaa-gate")

# --- admin API (DESIGN §3) -------------------------------------------------------------------
# IAM (SigV4) on every route in AWS stages; none in `local` (API_AUTHORIZER=none in its config).
AUTHORIZER = IAMAuthorizer() if settings.authorizer_kind() == "iam" else None
# Any content type reaches the view, which answers 400 (not Chalice's 415) to a non-JSON body.
ROUTE = {"authorizer": AUTHORIZER, "content_types": ["*/*"]}


@app.route("/environments", methods=["POST"], **ROUTE)
@handled
def onboard_environment():
    return handlers.onboard_environment(app.current_request)


@app.route("/environments", methods=["GET"], **ROUTE)
@handled
def list_environments():
    return handlers.list_environments(app.current_request)


@app.route("/environments/{name}", methods=["GET"], **ROUTE)
@handled
def get_environment(name):
    return handlers.get_environment(app.current_request, name)


@app.route("/environments/{name}", methods=["DELETE"], **ROUTE)
@handled
def offboard_environment(name):
    return handlers.offboard_environment(app.current_request, name)


@app.route("/environments/{name}/reconcile", methods=["POST"], **ROUTE)
@handled
def reconcile_environment(name):
    return handlers.reconcile_environment(app.current_request, name)


@app.route("/grants", methods=["POST"], **ROUTE)
@handled
def upsert_grant():
    return handlers.upsert_grant(app.current_request)


@app.route("/grants", methods=["GET"], **ROUTE)
@handled
def list_grants():
    return handlers.list_grants(app.current_request)


@app.route("/grants/{grant_id}", methods=["DELETE"], **ROUTE)
@handled
def revoke_grant(grant_id):
    return handlers.revoke_grant(app.current_request, grant_id)


@app.route("/access/{email}", methods=["GET"], **ROUTE)
@handled
def user_access(email):
    return handlers.user_access(app.current_request, email)


# --- end of admin API ------------------------------------------------------------------------


# --- workflow steps (DESIGN §4), called by statemachines/*.asl.json ------------------------


@app.lambda_function(name="onboard_validate")
def onboard_validate(event, context):
    return steps.onboard_validate(event)


@app.lambda_function(name="onboard_create_environment")
def onboard_create_environment(event, context):
    return steps.onboard_create_environment(event)


@app.lambda_function(name="onboard_poll_environment")
def onboard_poll_environment(event, context):
    return steps.onboard_poll_environment(event)


@app.lambda_function(name="onboard_connect_network")
def onboard_connect_network(event, context):
    return steps.onboard_connect_network(event)


@app.lambda_function(name="onboard_register_targets")
def onboard_register_targets(event, context):
    return steps.onboard_register_targets(event)


@app.lambda_function(name="onboard_route_host")
def onboard_route_host(event, context):
    return steps.onboard_route_host(event)


@app.lambda_function(name="onboard_finish")
def onboard_finish(event, context):
    return steps.onboard_finish(event)


@app.lambda_function(name="onboard_rollback")
def onboard_rollback(event, context):
    return steps.onboard_rollback(event)


@app.lambda_function(name="offboard_begin")
def offboard_begin(event, context):
    return steps.offboard_begin(event)


@app.lambda_function(name="offboard_teardown")
def offboard_teardown(event, context):
    return steps.offboard_teardown(event)


@app.lambda_function(name="offboard_delete_environment")
def offboard_delete_environment(event, context):
    return steps.offboard_delete_environment(event)


@app.lambda_function(name="offboard_poll_deleted")
def offboard_poll_deleted(event, context):
    return steps.offboard_poll_deleted(event)


@app.lambda_function(name="offboard_finish")
def offboard_finish(event, context):
    return steps.offboard_finish(event)


@app.lambda_function(name="offboard_fail")
def offboard_fail(event, context):
    return steps.offboard_fail(event)


# --- reconciler (DESIGN §4 Reconciliation) ------------------------------------------------------


@app.schedule(Rate(workflow_settings.reconcile_minutes(), unit=Rate.MINUTES), name="reconcile")
def reconcile_all(event):
    return reconcile.run_all()
