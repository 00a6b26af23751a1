"""Unicode general categories as regular-expression class bodies that Python's `re` and
ECMA-262 (JSON Schema, docs/openapi.yaml) read alike: neither shares `\\p{..}` with the other
(Python has none), so the classes are spelled out as ranges, from Python's Unicode database.
BMP code points are written `\\uXXXX`, the others as themselves.
"""

from __future__ import annotations

import functools
import sys
import unicodedata


def _spelled(code_point: int) -> str:
    return f"\\u{code_point:04x}" if code_point < 0x10000 else chr(code_point)


@functools.cache
def _categories() -> tuple[str, ...]:
    return tuple(unicodedata.category(chr(c)) for c in range(sys.maxunicode + 1))


@functools.cache
def char_class(categories: str, exclude: str = "") -> str:
    """The body of `[...]` matching the characters of these general categories (`L`, `Nd`…,
    space-separated), without those in `exclude`. Slow (a pass over every code point): for
    building documents and tests, not for requests."""
    wanted = tuple(categories.split())
    excluded = {ord(char) for char in exclude}
    ranges: list[tuple[int, int]] = []
    for code_point, category in enumerate(_categories()):
        if code_point in excluded or not category.startswith(wanted):
            continue
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1] = (ranges[-1][0], code_point)
        else:
            ranges.append((code_point, code_point))
    return "".join(
        _spelled(low) if low == high else f"{_spelled(low)}-{_spelled(high)}"
        for low, high in ranges
    )
