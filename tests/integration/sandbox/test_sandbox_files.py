"""Workspace: quota'd, persisted across pods, data read-only; copy in/out never follows planted links."""

from __future__ import annotations

import os

import pytest

from worksample import sandbox

pytestmark = [pytest.mark.docker]

IDLE = ["sleep", "300"]
MIB = 1024**2


@pytest.fixture
def workspace(data_dir):
    """A quota'd workspace of 32 MiB, unmounted at the end (image kept, as attempts keep theirs)."""
    ws = sandbox.open_workspace(data_dir / "ws" / "a1.img", data_dir / "ws" / "a1", 32 * MIB)
    yield ws
    sandbox.close_workspace(ws)


def test_work_survives_the_pod_and_a_remount(pods, in_pod, workspace):
    pod = pods(command=IDLE, workspace=workspace.path)
    assert in_pod(pod, "open('outputs/result.txt', 'w').write('kept')").exit_code == 0
    sandbox.remove(pod)
    sandbox.close_workspace(workspace)
    assert not workspace.mounted and workspace.image.exists()
    again = sandbox.open_workspace(workspace.image, workspace.path, 32 * MIB)
    assert (again.path / "outputs" / "result.txt").read_text() == "kept"
    assert (again.path / "outputs" / "result.txt").stat().st_uid == 1000


def test_data_is_mounted_read_only(pods, in_pod, data_dir):
    data = data_dir / "task-data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    pod = pods(command=IDLE, data=data)
    out = in_pod(pod, "print(open('data/train.csv').read().splitlines()[1])\n"
                      "try:\n    open('data/new.csv', 'w')\nexcept OSError as e:\n    print(e.errno)").stdout.split()
    assert out == [b"1,2", b"30"]  # EROFS


def test_copy_in_starter_files(pods, in_pod, tmp_path):
    starter = tmp_path / "starter"
    (starter / "src").mkdir(parents=True)
    (starter / "triage.ipynb").write_text("{}")
    (starter / "src" / "util.py").write_text("X = 1\n")
    pod = pods(command=IDLE)
    assert sandbox.default_backend().copy_in(pod, starter) == 8
    out = in_pod(pod, "import os\nprint(sorted(os.listdir('.')), open('src/util.py').read().strip(),"
                      " os.stat('triage.ipynb').st_uid)").stdout.decode()
    assert out.strip() == "['outputs', 'src', 'triage.ipynb'] X = 1 1000"


def test_copy_out_never_follows_planted_links_and_is_capped(pods, in_pod, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST SECRET")
    pod = pods(command=IDLE)
    plant = (f"import os\n"
             f"os.symlink({str(secret)!r}, 'outputs/leak.txt')\n"
             f"os.symlink('/', 'outputs/root')\n"
             f"os.symlink({str(tmp_path)!r}, 'outputs/hostdir')\n"
             f"os.mkfifo('outputs/pipe')\n"
             f"open('outputs/report.json', 'w').write('{{}}')\n"
             f"open('outputs/big.bin', 'wb').write(b'x' * (3 << 20))\n")
    assert in_pod(pod, plant).exit_code == 0
    dest = tmp_path / "out"
    skipped = sandbox.default_backend().copy_out(pod, "/workspace/outputs", dest, max_bytes=1 * MIB)
    assert sorted(skipped) == ["big.bin", "hostdir", "leak.txt", "pipe", "root"]
    assert sorted(os.listdir(dest)) == ["report.json"]
    with pytest.raises(sandbox.files.CopyError):
        sandbox.default_backend().copy_out(pod, "/workspace/outputs/leak.txt", tmp_path / "x", max_bytes=MIB)
    with pytest.raises(sandbox.files.CopyError):
        sandbox.default_backend().copy_out(pod, "/etc/passwd", tmp_path / "y", max_bytes=MIB)
    assert "HOST SECRET" not in "".join(p.read_text() for p in dest.rglob("*") if p.is_file())


def test_copy_in_replaces_a_planted_link_instead_of_writing_through_it(pods, in_pod, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    pod = pods(command=IDLE)
    assert in_pod(pod, f"import os; os.symlink({str(victim)!r}, 'notes.txt')").exit_code == 0
    starter = tmp_path / "starter"
    starter.mkdir()
    (starter / "notes.txt").write_text("starter notes")
    sandbox.default_backend().copy_in(pod, starter)
    assert victim.read_text() == "untouched"
    assert in_pod(pod, "print(open('notes.txt').read())").stdout.strip() == b"starter notes"


def test_a_workspace_without_quota_is_refused(pods, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(sandbox.spec.UsageError, match="not a mounted quota image"):
        pods(command=IDLE, workspace=plain)
