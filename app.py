"""mwaa-gate admin app (AWS Chalice).

Thin by design (DESIGN §1): routes of the admin API and the pure Lambda functions that the
state machines call; each delegates to chalicelib.
"""

from chalice import Chalice

app = Chalice(app_name="mwaa-gate")
