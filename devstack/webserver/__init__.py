"""MWAA web server stand-ins: one small HTTP server per environment (see standin.py), found
by the private IP addresses of the environment's web server VPC endpoint (see fleet.py)."""

from .fleet import Fleet
from .standin import WebServer

__all__ = ["Fleet", "WebServer"]
