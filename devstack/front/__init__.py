"""The local ALB front (DESIGN §6): devstack's ELBv2 listener rules, evaluated per request.

- rules.py: which rule handles a request (pure, unit-tested against the documented semantics);
- authenticate.py / session.py: authenticate-oidc / -cognito and the session cookie shards;
- lambda_target.py: the Lambda target group event and answer;
- origins.py: `https://<host>` (the ALB's 443) ↔ `http://<host>:<port>` on this machine;
- server.py: `Front`, the HTTP server that puts them together.
"""
