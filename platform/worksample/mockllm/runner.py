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
          memory_limit: int | None = None, service_path: str | Path | None = None,
          service_port: int | None = None) -> None:
    """Build the app and serve it with uvicorn (uvloop + httptools when installed) until stopped.

    `memory_limit` (bytes) overrides the cgroup's limit for the memory guard (state.py).
    `service_path`: a task's service.py, served on `service_port` (default 8081) in the same
    process (service.py). A stop by signal is recorded in `mock.json`.
    """
    import asyncio

    import uvicorn

    from worksample.mockllm.admission import MAX_IN_FLIGHT
    from worksample.mockllm.protocol import http_protocol

    app = build_app(profile_path, log_path, seed=seed, oracle_path=oracle_path, api_keys=api_keys,
                    memory_limit=memory_limit)
    service = _build_service(app, service_path) if service_path else None
    _record_stop_on_signal(app, service)
    common = dict(loop=_best("uvloop", "asyncio"), http=http_protocol(_best("httptools", "h11")), lifespan="off",
                  access_log=False, log_level="warning", proxy_headers=False, server_header=False, date_header=True,
                  timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    # A backstop under the app's own admission: connections past this get uvicorn's 503 at once,
    # so idle or slow connections cannot pile up buffers either.
    servers = [uvicorn.Server(uvicorn.Config(app, host=host, port=port, limit_concurrency=2 * MAX_IN_FLIGHT, **common))]
    if service is not None:
        from worksample.mockllm.service import SERVICE_PORT

        servers.append(uvicorn.Server(uvicorn.Config(service, host=host, port=service_port or SERVICE_PORT,
                                                     limit_concurrency=2 * MAX_IN_FLIGHT, **common)))
    print(f"mockllm: serving {len(app.models)} model(s) on http://{host}:{port}/v1, log {app.calllog.calls_path}"
          + (f"; task service on http://{host}:{service_port or 8081}" if service is not None else ""),
          file=sys.stderr, flush=True)
    factory = servers[0].config.get_loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        loop.run_until_complete(_serve_all(servers))
    finally:
        loop.close()
    # With two servers the handlers are restored in the order they finish, so the
    # signal may come back to a uvicorn handler rather than ours: die of it here.
    captured = [sig for server in servers for sig in getattr(server, "_captured_signals", [])]
    if captured:
        import signal

        signal.signal(captured[0], _stop_handler(app, service))
        signal.raise_signal(captured[0])
    app.state.stopped("returned", 0)
    app.calllog.close()
    if service is not None:
        service.close()


async def _serve_all(servers) -> None:
    """Serve every server until one of them is told to stop (each catches the signals; one stops all)."""
    import asyncio

    async def watch() -> None:
        while not any(s.should_exit for s in servers):
            await asyncio.sleep(0.1)
        for s in servers:
            s.should_exit = True

    await asyncio.gather(*(s.serve() for s in servers), watch())


def _build_service(app, service_path):
    """The task service's ASGI wrapper; a crash in it stops the mock with EXIT_SERVICE_CRASH."""
    import os

    from worksample.mockllm.service import EXIT_SERVICE_CRASH, ServiceServer, load_service

    service_app, state_fn = load_service(service_path)

    def crashed(reason: str) -> None:
        service.close()
        app.state.stopped("service_crash", EXIT_SERVICE_CRASH, detail=reason)
        app.calllog.close()
        os._exit(EXIT_SERVICE_CRASH)

    service = ServiceServer(service_app, state_fn, app.calllog.calls_path.parent, app.profile, app.seed, on_crash=crashed)
    return service


def _best(preferred: str, fallback: str) -> str:
    import importlib.util

    return preferred if importlib.util.find_spec(preferred) is not None else fallback


def _record_stop_on_signal(app, service=None) -> None:
    """Record a stop by signal in mock.json, then die of that signal as before.

    uvicorn catches SIGTERM/SIGINT while it serves, shuts down gracefully,
    restores the handlers it found (these) and raises the signal again.
    """
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_handler(app, service))


def _stop_handler(app, service):
    """A signal handler that records the stop, closes the logs and dies of the signal."""
    import signal

    def handler(sig: int, frame) -> None:
        app.state.stopped("signal", 128 + sig)
        app.calllog.close()
        if service is not None:
            service.close()
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)

    return handler
