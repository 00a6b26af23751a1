"""Retrying the calls that fail for a while after a new IAM role (IAM is eventually consistent).

Lambda answers `InvalidParameterValueException` ("cannot be assumed by Lambda") and Step
Functions `AccessDeniedException` until the new role has propagated, for seconds at most.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")
PROPAGATION_CODES = frozenset({"InvalidParameterValueException", "AccessDeniedException"})
ATTEMPTS = 12
DELAY_SECONDS = 5.0


def while_iam_propagates(
    call: Callable[..., T], *args: Any, delay: float = DELAY_SECONDS, **kwargs: Any
) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call(*args, **kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in PROPAGATION_CODES or attempt == ATTEMPTS:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")
