"""The two commands, shared by `python -m worksample.mockllm` and `worksample mockllm`."""

from __future__ import annotations

import sys
from pathlib import Path

from worksample.mockllm.profile import Profile, load_profile

# uvicorn's own shutdown waits for open connections; a stalled one (the timeout
# fault) must not hold a stopping container for minutes.
GRACEFUL_SHUTDOWN_S = 2


def validate(profile_path: str | Path) -> Profile:
    """Load and validate a profile; raises ProfileError (`FILE: key.path: message`)."""
    return load_profile(profile_path)


def build_app(profile_path: str | Path, log_path: str | Path, *, seed: int | None = None,
              oracle_path: str | Path | None = None, api_keys: tuple[str, ...] = (), memory_limit: int | None = None):
    """Validate everything, open the logs and return the ASGI app (nothing listens yet).

    Raises ProfileError for a bad profile and OracleLoadError for a bad oracle.
    """
    from worksample.mockllm import tokens
    from worksample.mockllm.calllog import CallLog
    from worksample.mockllm.oracle import OracleContext, load_oracle
    from worksample.mockllm.server import MockServer

    profile = load_profile(profile_path)
    seed = profile.seed if seed is None else seed
    task_dir = Path(oracle_path).resolve().parent if oracle_path else None
    # Chat models only: the oracle answers chat completions, and ranks models by position.
    chat_models = tuple(m.id for m in profile.models if m.kind == "chat")
    ctx = OracleContext(task_dir=task_dir, seed=seed, models=chat_models)
    oracle = load_oracle(oracle_path, ctx)
    tokens.warm_up()
    return MockServer(profile, CallLog(log_path), oracle, seed=seed, api_keys=tuple(api_keys), memory_limit=memory_limit)


def serve(profile_path: str | Path, *, host: str = "127.0.0.1", port: int, log_path: str | Path,
          seed: int | None = None, oracle_path: str | Path | None = None, api_keys: tuple[str, ...] = (),
          memory_limit: int | None = None) -> None:
    """Build the app and serve it with uvicorn (uvloop + httptools when installed) until stopped.

    `memory_limit` (bytes) overrides the cgroup's limit for the memory guard (state.py).
    On a normal stop `mock.json` records `"reason": "signal"`.
    """
    import uvicorn

    from worksample.mockllm.admission import MAX_IN_FLIGHT
    from worksample.mockllm.protocol import http_protocol

    app = build_app(profile_path, log_path, seed=seed, oracle_path=oracle_path, api_keys=api_keys,
                    memory_limit=memory_limit)
    _record_stop_on_signal(app)
    print(f"mockllm: serving {len(app.models)} model(s) on http://{host}:{port}/v1, log {app.calllog.calls_path}",
          file=sys.stderr, flush=True)
    uvicorn.run(
        app, host=host, port=port, loop=_best("uvloop", "asyncio"), http=http_protocol(_best("httptools", "h11")),
        # A backstop under the app's own admission: connections past this get uvicorn's 503 at once,
        # so idle or slow connections cannot pile up buffers either.
        limit_concurrency=2 * MAX_IN_FLIGHT,
        lifespan="off", access_log=False, log_level="warning", proxy_headers=False,
        server_header=False, date_header=True, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    app.state.stopped("returned", 0)
    app.calllog.close()


def _best(preferred: str, fallback: str) -> str:
    import importlib.util

    return preferred if importlib.util.find_spec(preferred) is not None else fallback


def _record_stop_on_signal(app) -> None:
    """Record a stop by signal in mock.json, then die of that signal as before.

    uvicorn catches SIGTERM/SIGINT while it serves, shuts down gracefully,
    restores the handlers it found (these) and raises the signal again.
    """
    import signal

    def handler(sig: int, frame) -> None:
        app.state.stopped("signal", 128 + sig)
        app.calllog.close()
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
