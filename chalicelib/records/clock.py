"""Time, in one place: epoch seconds and ISO 8601 UTC strings."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def iso(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(now() if epoch is None else epoch, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
