"""Sizes as people write them (`512m`, `2g`, `1024`), parsed one way everywhere.

Task files (`resources.memory`) and the sandbox CLI (`--memory`) share this
grammar so a size that works in one works in the other.
"""

from __future__ import annotations

import re

SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def size_bytes(text: str) -> int:
    """Bytes in `text` (binary units, optional `b`/`ib` suffix); raises ValueError if it is not a size."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


def parse_size(value: object, *, minimum: int = 1) -> int:
    """A size as bytes: a number of bytes or text like `2g`, `512m`, `64k`, at least `minimum`.

    Raises ValueError saying what is wrong (callers add the field's name); a bool is not a size.
    """
    if isinstance(value, bool):
        raise ValueError("expected a size like 2g or 512m")
    if isinstance(value, int):
        size = value
    else:
        try:
            size = size_bytes(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a size like 2g or 512m") from None
    if size < minimum:
        raise ValueError("a size must be positive" if minimum <= 1 else
                         f"{value!r} is below the minimum of {minimum} bytes")
    return size
