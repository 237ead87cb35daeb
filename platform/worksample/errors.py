"""Errors a user can act on: each carries one line saying what and what to run."""

from __future__ import annotations


class WorksampleError(Exception):
    """Base for errors shown to users as one line, without a traceback."""

    exit_code = 1


class DockerUnavailable(WorksampleError):
    """The Docker engine does not answer."""


class RedisUnavailable(WorksampleError):
    """Redis does not answer."""


class ImageMissing(WorksampleError):
    """A sandbox image has not been built."""


class UsageError(WorksampleError):
    """A command was given nonsense; exit status 2 like other usage errors."""

    exit_code = 2
