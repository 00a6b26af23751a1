"""The admin API of DESIGN §3: validation, repositories, workflow starter, audit, services.

`app.py` routes stay thin: each parses its request at the edge (`http`), calls one service
function, and answers what it returns.
"""
