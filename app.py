"""mwaa-gate admin app (AWS Chalice).

Thin by design (DESIGN §1): routes of the admin API and the pure Lambda functions that the
state machines call; each delegates to chalicelib.
"""

from collections.abc import Callable

from chalice import Chalice, IAMAuthorizer, Rate, Response

from chalicelib.api import handlers, observability, settings
from chalicelib.api.http import handled
from chalicelib.workflow import reconcile, steps
from chalicelib.workflow import settings as workflow_settings

# configure_logs=False: Chalice adds a plain-text handler to the logger named after the app —
# the very logger powertools writes its JSON lines to — whenever it finds no stdout handler
# there; only import order prevents that today. The middleware puts the request id on every
# log line of a request and counts requests by route and status.
app = Chalice(app_name="mwaa-gate", configure_logs=False)
app.register_middleware(observability.middleware(app), "http")

# --- admin API (DESIGN §3) -------------------------------------------------------------------
# IAM (SigV4) on every route in AWS stages; none in `local` (API_AUTHORIZER=none in its config).
AUTHORIZER = IAMAuthorizer() if settings.authorizer_kind() == "iam" else None


def route(path: str, method: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register an admin route behind the edge (`http.handled`), the only way routes are made.

    The edge percent-decodes path parameters once and maps errors. Any content type reaches
    the view, which answers 400 (not Chalice's 415) to a non-JSON body.
    """

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        return app.route(path, methods=[method], authorizer=AUTHORIZER, content_types=["*/*"])(
            handled(view)
        )

    return register


@route("/environments", "POST")
def onboard_environment():
    return handlers.onboard_environment(app.current_request)


@route("/environments", "GET")
def list_environments():
    return handlers.list_environments(app.current_request)


@route("/environments/{name}", "GET")
def get_environment(name):
    return handlers.get_environment(app.current_request, name)


@route("/environments/{name}", "DELETE")
def offboard_environment(name):
    return handlers.offboard_environment(app.current_request, name)


@route("/environments/{name}/reconcile", "POST")
def reconcile_environment(name):
    return handlers.reconcile_environment(app.current_request, name)


@route("/grants", "POST")
def upsert_grant():
    return handlers.upsert_grant(app.current_request)


@route("/grants", "GET")
def list_grants():
    return handlers.list_grants(app.current_request)


@route("/grants/{grant_id}", "DELETE")
def revoke_grant(grant_id):
    return handlers.revoke_grant(app.current_request, grant_id)


@route("/access/{email}", "GET")
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
