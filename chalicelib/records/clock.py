"""Time, in one place: epoch seconds and ISO 8601 UTC strings."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

# The range every part can show: ISO 8601 with 4-digit years, from 0001 to 9999, in UTC.
EARLIEST_EPOCH = datetime(1, 1, 1, tzinfo=UTC).timestamp()
LATEST_EPOCH = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def now() -> float:
    return time.time()


def iso(epoch: float | None = None) -> str:
    """ISO 8601 UTC of an epoch; total over stored numbers: out-of-range ones are clamped to
    0001-01-01T00:00:00Z / 9999-12-31T23:59:59Z (a listing never fails on a stored value)."""
    seconds = now() if epoch is None else float(epoch)
    if math.isnan(seconds):
        raise ValueError("not a time: NaN")
    seconds = min(max(seconds, EARLIEST_EPOCH), LATEST_EPOCH)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
