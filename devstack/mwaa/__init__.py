"""A moto-compatible MWAA backend (moto 5 has none), registered as `moto.mwaa`."""

from .models import mwaa_backends

__all__ = ["mwaa_backends"]
