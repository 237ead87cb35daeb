"""Deterministic embeddings: a hashed bag of words, so shared words mean similarity.

Each lower-cased word (and each word bigram) adds +1 or -1 to a dimension
chosen by its hash; the vector is then L2-normalised. Texts that share words
have a positive cosine, identical texts identical vectors, whatever the seed.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from array import array

_WORD = re.compile(r"\w+", re.UNICODE)


def embed(text: str, dims: int) -> list[float]:
    """A unit vector of `dims` floats for `text`."""
    vec = [0.0] * dims
    words = _WORD.findall(text.lower()) or [text]
    features = words + [a + " " + b for a, b in zip(words, words[1:])]
    for feature in features:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        vec[h % dims] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [round(v / norm, 6) for v in vec]


def encode_base64(vec: list[float]) -> str:
    """The vector as base64 little-endian float32, as `encoding_format: base64` returns it."""
    arr = array("f", vec)
    if arr.itemsize != 4:  # pragma: no cover - every platform we run on has 4-byte floats
        raise RuntimeError("float32 array expected")
    import sys

    if sys.byteorder != "little":  # pragma: no cover
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode()
