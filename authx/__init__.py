"""authX: the ALB-invoked login/logout Lambda of mwaa-gate (DESIGN §5).

Packaged on its own; imports nothing from chalicelib. The Chalice app reuses the role rule
(`authx.roles`) through `vendor/authx`.
"""
