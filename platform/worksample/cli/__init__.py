"""The `worksample` command. Each sub-command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from worksample.errors import WorksampleError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="worksample: work samples for AI engineers",
)

# Each module exposes a typer app mounted under its name (alphabetical).
from worksample.cli import images as _images  # noqa: E402
from worksample.cli import mockllm as _mockllm  # noqa: E402
from worksample.cli import platform as _platform  # noqa: E402
from worksample.cli import sandbox as _sandbox  # noqa: E402
from worksample.cli import task as _task  # noqa: E402

app.add_typer(_images.app, name="images", help="Build the sandbox images")
app.add_typer(_mockllm.app, name="mockllm", help="Run or validate the mock LLM API")
app.add_typer(_sandbox.app, name="sandbox", help="Run commands in hardened sandbox pods")
app.add_typer(_task.app, name="task", help="Author and validate tasks")
_platform.register(app)

from worksample.cli import grading as _grading  # noqa: E402

_grading.register(app)

from worksample.cli import attempts as _attempts  # noqa: E402

_attempts.register(app)

from worksample.cli import users as _users  # noqa: E402

app.add_typer(_users.app, name="user", help="Staff accounts: add a user, print a new setup link")


def main() -> None:
    """Entry point: run the CLI and turn known errors into one line on stderr."""
    try:
        code = app(standalone_mode=False)
    except WorksampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        # Usage errors (typer bundles its own click) carry their own exit code.
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    # Without standalone mode click returns typer.Exit's code instead of exiting.
    if isinstance(code, int) and code:
        sys.exit(code)
