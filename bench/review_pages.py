"""Review pages figures: server time of `/`, `/tasks/{slug}/candidates` and the CSV export, and SQL queries per page.

Seeds a fresh SQLite database (under var/bench/review-<run>/) with 1,000
synthetic submissions across 4 tasks (the same rows the platform writes:
invitations, attempts with activity, submissions, reports with checks and an
LLM timeline; a third of them reviewed, some decided), plus a few invited and
running candidates. Then, in process, it requests each page N times as a blind
reviewer and as an admin through the ASGI app (no network: the time is the
server's) and prints p50/p95 wall and CPU time and how many SQL statements each request ran.

    .venv/bin/python bench/review_pages.py [--submissions 1000] [--tasks 4] [--requests 60]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import time
import uuid
from pathlib import Path

from figures import pct  # bench/, beside this file

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 123"


def _seed(n_subs: int, n_tasks: int) -> list[str]:
    from worksample import accounts
    from worksample.db.models import Role
    from worksample.review import reviews, synthetic
    from worksample.review.viewer import Viewer

    slugs = [f"task-{i}" for i in range(n_tasks)]
    task_ids = [synthetic.add_task(slug, f"Benchmark task {i}") for i, slug in enumerate(slugs)]
    users = {}
    for email, role in (("admin@bench", Role.admin), ("rita@bench", Role.reviewer), ("rob@bench", Role.reviewer)):
        link = accounts.add_user(email, role, email.split("@")[0])
        accounts.use_setup_link(link.token, PASSWORD, PASSWORD)
        users[email] = link.user_id
    rob = Viewer(users["rob@bench"], Role.reviewer, True)
    admin = Viewer(users["admin@bench"], Role.admin, False)
    good = {"tradeoffs": 6, "failure_handling": 7, "code_quality": 3}
    for i in range(n_subs):
        t = i % n_tasks
        made = synthetic.add_candidate(task_ids[t], slugs[t], f"Candidate Person {i}", f"p{i}@example.com",
                                       seed=i, score_share=(i % 10) / 10)
        if i % 3 == 0:
            reviews.save_review(rob, made.submission_id, good, "yes", "fine")
        if i % 7 == 0:
            reviews.decide(admin, made.submission_id, "hold", "")
    for t, slug in enumerate(slugs):  # some not submitted yet
        for j in range(10):
            synthetic.add_candidate(task_ids[t], slug, f"Late {t}-{j}", f"l{t}{j}@example.com",
                                    stage="invited" if j % 2 else "started", seed=10_000 + 10 * t + j)
    return slugs


def _client(app, email: str):
    from starlette.testclient import TestClient

    client = TestClient(app)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    return client


def _measure(client, path: str, n: int, counted: list) -> tuple[list[float], list[float], set[int]]:
    """Wall and CPU milliseconds per request, and the SQL statement counts seen."""
    wall, cpu, queries = [], [], set()
    client.get(path)  # warm-up: template compilation, first connection, the report-cost cache
    for _ in range(n):
        counted.clear()
        started, cpu0 = time.perf_counter(), time.process_time()
        resp = client.get(path)
        # CPU time of the whole process (server threads and the in-process client): on a shared,
        # loaded machine wall time mostly measures the other tenants; CPU time measures this code.
        cpu.append((time.process_time() - cpu0) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, (path, resp.status_code)
        queries.add(len(counted))
    return wall, cpu, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    data = REPO / "var" / "bench" / f"review-{uuid.uuid4().hex[:8]}"
    data.mkdir(parents=True)
    os.environ["WORKSAMPLE_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    from sqlalchemy import event

    from worksample.config import get_settings
    from worksample.db import get_engine, migrate

    get_settings.cache_clear()
    try:
        migrate()
        started = time.perf_counter()
        slugs = _seed(args.submissions, args.tasks)
        print(f"seeded {args.submissions} submissions across {args.tasks} tasks "
              f"(+{10 * args.tasks} invited/running) in {time.perf_counter() - started:.1f} s; "
              f"database {data / 'worksample.db'}")
        from worksample.web.app import create_app

        app = create_app()
        counted: list = []
        event.listen(get_engine(), "before_cursor_execute", lambda *a: counted.append(a[2]))
        paths = ["/", f"/tasks/{slugs[0]}/candidates", f"/tasks/{slugs[0]}/candidates?sort=score&dir=desc",
                 f"/api/v1/tasks/{slugs[0]}/submissions?format=csv"]
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(f"{'who':6} {'page':52} {'wall p50':>9} {'wall p95':>9} {'CPU p50':>8} {'CPU p95':>8} {'SQL/req':>8}")
        for who in ("rita@bench", "admin@bench"):
            client = _client(app, who)
            for path in paths:
                wall, cpu, queries = _measure(client, path, args.requests, counted)
                sql = str(min(queries)) if len(queries) == 1 else f"{min(queries)}-{max(queries)}"
                print(f"{who.split('@')[0]:6} {path:52} {statistics.median(wall):9.1f} {pct(wall, .95):9.1f} "
                      f"{statistics.median(cpu):8.1f} {pct(cpu, .95):8.1f} {sql:>8}", flush=True)
            client.close()
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (times in ms)")
    finally:
        get_engine().dispose()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
