"""Factory fixtures: a fixture yields a function that makes things, and cleans up every thing it made."""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def keeping(build: Callable[..., T]) -> tuple[Callable[..., T], list[T]]:
    """A factory that calls `build` with its arguments and keeps each result, and the list it keeps them in
    (the fixture yields the factory, then cleans up the list)."""
    made: list[T] = []

    def make(*args, **kwargs) -> T:
        made.append(build(*args, **kwargs))
        return made[-1]

    return make, made
