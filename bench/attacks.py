"""Denial-of-service figures (issue 11, items 5–7): API RSS, runner RSS and host disk under each attack.

Each attack is what a hostile candidate did in the issue, scaled to this machine:

  proxy (a real `worksample serve` and attempt; the API's peak RSS, VmHWM, before → after the attack)
    html-files   GET three sparse 128 MiB .html files through /w/{id}/files/
    json-files   the same with .json
    ws-messages  the kernel sends three 24 MiB display messages; the browser stalls 20 s, then reads
    upload-chunk a 400 MiB chunked PUT to /api/contents
    upload-2g    a PUT declaring Content-Length 2 GiB (how much the API took before answering)
  runner (one grading per attack, in a fresh process that runs the job inline; its peak RSS)
    display      4 × 64 MiB display_data from the kernel
    replay       one signed 24 MiB stream message replayed 16 times
  disk (one grading; bytes the host holds in the pod's /ipc while the kernel fills it, polled every 0.2 s)
    ipc-fill     the kernel writes 8 MiB files to /ipc until refused (stops itself at 1 GiB)

    .venv/bin/python bench/attacks.py [--only proxy|runner|disk]
    PYTHONPATH=<tree of the old code>/platform .venv/bin/python bench/attacks.py   # the "before" figures

Pods carry worksample.bench=<run id> and are removed at the end; state goes under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MiB = 1024**2
sys.path.insert(0, str(Path(__file__).resolve().parent))

from attempt_start import RUN, Bench  # noqa: E402  (the serve + attempt helper of the start-up bench)
from raw_http import put_streaming  # noqa: E402  (tests/integration/attempts, on the path attempt_start sets)


def hwm(pid: int | str = "self") -> int:
    """Peak resident memory of a process, bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def row(section: str, attack: str, before: int, after: int, note: str = "") -> None:
    print(f"{section:7} {attack:13} {before / MiB:8.0f} MiB -> {after / MiB:6.0f} MiB  (+{(after - before) / MiB:.0f})  {note}")


# --- proxy ------------------------------------------------------------------------------------------

def proxy_attacks(root: Path) -> None:
    bench = Bench(root)
    bench.start()
    try:
        opened = bench.open_attempt(bench.invite())
        attempt, cookie = opened["attempt_id"], opened["cookie"]
        workspace = root / "data" / "attempts" / attempt / "workspace"
        pid = bench.proc.pid
        for ext in ("html", "json"):
            for n in range(3):
                path = workspace / f"big{n}.{ext}"
                with open(path, "wb") as fh:
                    fh.truncate(128 * MiB)
                os.chown(path, 1000, 1000)
            start = hwm(pid)
            got = 0
            with httpx.Client(base_url=bench.url, cookies={"ws_attempt": cookie}, timeout=600) as client:
                for n in range(3):
                    with client.stream("GET", f"/w/{attempt}/files/big{n}.{ext}") as resp:
                        got += sum(len(c) for c in resp.iter_raw())
            row("proxy", f"{ext}-files", start, hwm(pid), f"{got / MiB:.0f} MiB delivered")
        start = hwm(pid)
        closed = ws_flood(bench, opened)
        row("proxy", "ws-messages", start, hwm(pid), closed)
        start = hwm(pid)
        status, sent = put_raw(bench, f"/w/{attempt}/api/contents/up.json", cookie,
                               "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n", 400 * MiB)
        row("proxy", "upload-chunk", start, hwm(pid), f"{status}, {sent / MiB:.0f} MiB sent")
        start = hwm(pid)
        status, sent = put_raw(bench, f"/w/{attempt}/api/contents/up.json", cookie,
                               "Content-Length: 2147483648\r\n", 2048 * MiB)
        row("proxy", "upload-2g", start, hwm(pid), f"{status}, {sent / MiB:.0f} MiB taken before the answer")
    finally:
        bench.close()


def ws_flood(bench, opened: dict) -> str:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{bench.port}/w/{opened['attempt_id']}/api/kernels/{opened['kernel']}/channels"
    code = ("from IPython.display import display\n"
            "for i in range(3):\n    display({'text/plain': str(i) * (24 * 1024**2)}, raw=True)")
    msg = {"channel": "shell", "buffers": [], "parent_header": {}, "metadata": {},
           "header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "username": "b", "session": "b",
                      "version": "5.3", "date": "2026-01-01T00:00:00Z"},
           "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                       "allow_stdin": False, "stop_on_error": True}}
    got = 0
    with connect(url, additional_headers={"Cookie": f"ws_attempt={opened['cookie']}", "Origin": bench.url},
                 open_timeout=60, max_size=None) as ws:
        ws.send(json.dumps(msg))
        time.sleep(20)  # a stalled browser
        try:
            while True:
                frame = ws.recv(timeout=30)
                got += len(frame)
        except ConnectionClosed as exc:
            return f"closed {exc.rcvd.code if exc.rcvd else '?'} after {got / MiB:.0f} MiB"
        except TimeoutError:
            return f"all delivered ({got / MiB:.0f} MiB)"


def put_raw(bench, path: str, cookie: str, headers: str, size: int) -> tuple[str, int]:
    """A streamed PUT (the proxy tests' helper); its status line and the bytes sent before the answer."""
    answer, sent = put_streaming(bench.port, path, cookie, headers, size, timeout=300)
    return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "no answer", sent


# --- runner and disk --------------------------------------------------------------------------------

RUNNER = r"""
import json, sys, threading, time, os
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import minitask
from worksample.grading.local import grade_path
root = Path(sys.argv[2]); cells = json.loads(sys.argv[3])
task = minitask.make_task(root / "tasks", timeout="60s")
spec = (task / "task.yaml").read_text().replace("memory: 512m", "memory: 1g")
(task / "task.yaml").write_text(spec)
folder = minitask.submission(root / "sub", cells)
def hwm():
    return int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) * 1024
def used():
    # bytes the host holds in the pods' /ipc dirs (a plain dir on disk before the fix, a tmpfs after)
    total = 0
    for ipc in (Path(os.environ["WORKSAMPLE_DATA_DIR"]) / "pods").glob("*/ipc"):
        for dirpath, _dirs, files in os.walk(ipc):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    pass
    return total
peak_disk = [0]; start_disk = used(); done = threading.Event()
def poll():
    while not done.wait(0.2):
        peak_disk[0] = max(peak_disk[0], used() - start_disk)
threading.Thread(target=poll, daemon=True).start()
start = hwm()
report = grade_path(folder, str(task), labels={"worksample.bench": os.environ["BENCH_RUN"]})
done.set()
print(json.dumps({"start": start, "peak": hwm(), "disk": peak_disk[0], "score": report["score"],
                  "max": report["max_score"], "status": report["run"]["status"], "error": report.get("error"),
                  "errors": report["run"]["errors"][:3]}))
"""

RUNNER_ATTACKS = {
    "display": ["from IPython.display import display\nfor i in range(4):\n"
                "    display({'text/plain': str(i) * (64 * 1024**2)}, raw=True)"],
    "replay": ["k = get_ipython().kernel\nm = k.session.serialize(k.session.msg('stream', "
               "{'name': 'stdout', 'text': 'R' * (24 * 1024**2)}, parent=k.get_parent('shell')))\n"
               "for _ in range(16):\n    k.iopub_socket.send_multipart(m)"],
    "ipc-fill": ["import errno\nwritten = 0\ntry:\n    for n in range(128):\n"
                 "        with open(f'/ipc/f{n}', 'wb') as fh:\n            fh.write(b'x' * (8 << 20)); written += 8 << 20\n"
                 "except OSError as exc:\n    print(errno.errorcode[exc.errno])\nprint('ipc bytes', written)"],
}


def grading_attack(root: Path, name: str) -> dict:
    folder = root / name
    folder.mkdir(parents=True)
    env = {**os.environ, "WORKSAMPLE_DATA_DIR": str(folder / "data"), "BENCH_RUN": RUN}
    cells = ["import os\nprint('start')", *RUNNER_ATTACKS[name], "print('DONE')"]
    out = subprocess.run([sys.executable, "-c", RUNNER, str(REPO / "tests" / "integration" / "grading"), str(folder),
                          json.dumps(cells)], env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"failed": (out.stderr or out.stdout)[-600:]}
    return json.loads(lines[-1])


def grading_attacks(root: Path, names: list[str]) -> None:
    for name in names:
        result = grading_attack(root, name)
        if "failed" in result:
            print(f"{'runner':7} {name:13} the grading raised: {result['failed']!r}")
            continue
        outcome = (f"report {'ERROR ' + str(result['error'])[:80] if result['error'] else 'scored'} "
                   f"{result['score']:.0f}/{result['max']:.0f}, run {result['status']}")
        if name == "ipc-fill":
            print(f"{'disk':7} {name:13} host held {result['disk'] / MiB:.0f} MiB in /ipc at peak; {outcome}")
        row("runner", name, result["start"], result["peak"], outcome)


def cleanup() -> None:
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=worksample.bench={RUN}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["proxy", "runner", "disk"])
    args = parser.parse_args()
    base = REPO / "var" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="attacks-", dir=base))
    import worksample

    print(f"code under test: {Path(worksample.__file__).parent}")
    try:
        if args.only in (None, "proxy"):
            proxy_attacks(root / "proxy")
        if args.only in (None, "runner"):
            grading_attacks(root, ["display", "replay"])
        if args.only in (None, "disk"):
            grading_attacks(root, ["ipc-fill"])
    finally:
        cleanup()
        for mount in [*root.glob("**/attempts/*/workspace"), *root.glob("**/pods/*/ipc")]:
            if os.path.ismount(mount):  # containers removed above; their workspace and /ipc mounts go too
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
