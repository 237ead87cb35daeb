"""Sandbox images: offline builds, content-hash tags, what the images hold.

Against the real Docker engine and PyPI. Small throwaway images live in a
temp copy of `sandbox_images/` named `tinytest`, labelled worksample.test=1
and removed at the end; the real images are built (if needed) and reused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worksample.config import REPO_ROOT
from worksample.errors import DockerUnavailable, ImageMissing, WorksampleError
from worksample.images import engine, image_ref, require, rootfs, wheelhouse
from worksample.images.builder import DEBOOTSTRAP, build_images, prune_images
from worksample.images.refs import rootfs_ref
from worksample.images.specs import ImageSpecError, Layout, load_spec

TEST_LABELS = {"worksample.test": "1"}
# After the shared install stage (sandbox_images/install.Dockerfile), which the builder puts first.
TINY_DOCKERFILE = """\
FROM ${PARENT}
COPY --from=install /opt/venv /opt/venv
USER 1000
"""


@pytest.fixture(scope="module")
def docker_client():
    """A client for the real engine; the images tests need one."""
    import docker

    client = docker.from_env()
    client.ping()
    yield client
    client.close()




@pytest.fixture
def tiny_root(tmp_path: Path) -> Layout:
    """A temp images root with a copy of the real base and install stage, and a tiny child `tinytest`."""
    root = tmp_path / "sandbox_images"
    shutil.copytree(REPO_ROOT / "sandbox_images" / "base", root / "base")
    shutil.copy(REPO_ROOT / "sandbox_images" / "install.Dockerfile", root / "install.Dockerfile")
    tiny = root / "tinytest"
    tiny.mkdir()
    (tiny / "Dockerfile").write_text(TINY_DOCKERFILE)
    (tiny / "image.toml").write_text('parent = "base"\nrequirements = "requirements.txt"\n')
    (tiny / "requirements.txt").write_text("iniconfig==2.3.1\n")
    return Layout(root, "worksample", tmp_path / "data")


@pytest.fixture
def tiny_built(tiny_root: Layout, docker_client):
    """`tiny_root`, with no tinytest image before (another run's would make the first build a no-op) nor after."""
    def remove_tiny() -> None:
        for image in docker_client.images.list(name="worksample/tinytest"):
            docker_client.images.remove(image.id, force=True)

    remove_tiny()
    yield tiny_root
    remove_tiny()


def remove(container) -> None:
    """Remove a test container; one already gone or being removed is fine."""
    from docker.errors import APIError

    try:
        container.remove(force=True)
    except APIError as exc:
        if exc.status_code not in (404, 409):
            raise


def run_in(client, ref: str, *cmd: str) -> str:
    """Run a command as uid 1000 with no network and a read-only root; return stdout."""
    container = client.containers.run(
        ref, list(cmd), detach=True, user="1000", network_mode="none", read_only=True,
        tmpfs={"/tmp": "size=16m", "/home/candidate": "size=16m,uid=1000,gid=1000"},
        labels=TEST_LABELS, entrypoint=[],
    )
    try:
        status = container.wait(timeout=120)["StatusCode"]
        logs = container.logs().decode()
        assert status == 0, f"{ref} {cmd} exited {status}:\n{logs}\n{container.attrs}"
        return logs
    finally:
        remove(container)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """The real image inputs frozen in a temp repo, so edits elsewhere cannot race the test.

    It shares the real data dir (wheelhouse cache, --base choice) and prefix:
    the same inputs give the same tags as the checkout.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    repo = tmp_path_factory.mktemp("snapshot") / "repo"
    shutil.copytree(REPO_ROOT / "sandbox_images", repo / "sandbox_images", ignore=ignore)
    shutil.copytree(REPO_ROOT / "graders", repo / "graders", ignore=ignore)
    shutil.copytree(REPO_ROOT / "platform/worksample/mockllm", repo / "platform/worksample/mockllm", ignore=ignore)
    shutil.copy(REPO_ROOT / "platform/worksample/__init__.py", repo / "platform/worksample/__init__.py")
    default = Layout.default()
    return Layout(repo / "sandbox_images", default.prefix, default.data_dir, repo)


@pytest.fixture(scope="module")
def real_images(snapshot: Layout, docker_client) -> Layout:
    """The snapshot's images, built if their inputs changed since the last build."""
    build_images(layout=snapshot, client=docker_client, labels=TEST_LABELS, echo=print)
    return snapshot


@pytest.mark.docker
@pytest.mark.slow
def test_second_build_of_unchanged_images_is_a_fast_noop(snapshot, docker_client):
    first = build_images(layout=snapshot, client=docker_client, labels=TEST_LABELS, echo=print)
    start = time.monotonic()
    second = build_images(layout=snapshot, client=docker_client, labels=TEST_LABELS, echo=print)
    elapsed = time.monotonic() - start
    assert [r.name for r in second] == ["base", "notebook", "grader", "mockllm"]
    assert not any(r.built for r in second)
    assert [r.ref for r in second] == [r.ref for r in first]
    assert elapsed < 5, f"an up-to-date build took {elapsed:.1f} s"


@pytest.mark.docker
@pytest.mark.slow
def test_changed_requirement_changes_the_tag_and_builds_offline(tiny_built, docker_client):
    tiny_root = tiny_built
    first = build_images(["tinytest"], layout=tiny_root, client=docker_client, labels=TEST_LABELS, echo=print)
    ref1 = first[-1].ref
    assert first[-1].built and ref1 == image_ref("tinytest", layout=tiny_root)
    assert run_in(docker_client, ref1, "python", "-c", "import importlib.metadata as m; print(m.version('iniconfig'))").strip() == "2.3.1"

    again = build_images(["tinytest"], layout=tiny_root, client=docker_client, labels=TEST_LABELS, echo=print)
    assert not again[-1].built and again[-1].ref == ref1

    (tiny_root.root / "tinytest" / "requirements.txt").write_text("iniconfig==2.0.0\n")
    ref2 = image_ref("tinytest", layout=tiny_root)
    assert ref2 != ref1 and ref2.startswith("worksample/tinytest:")
    second = build_images(["tinytest"], layout=tiny_root, client=docker_client, labels=TEST_LABELS, echo=print)
    assert second[-1].built and second[-1].ref == ref2
    assert run_in(docker_client, ref2, "python", "-c", "import importlib.metadata as m; print(m.version('iniconfig'))").strip() == "2.0.0"
    # The real base was reused, not rebuilt, because its inputs are the same.
    assert not second[0].built and second[0].ref == image_ref("base")


@pytest.mark.docker
@pytest.mark.slow
def test_base_option_builds_from_a_local_image_and_is_remembered(tiny_built, docker_client):
    layout = tiny_built
    local = rootfs_ref(layout, load_spec(layout, "base"))
    results = build_images(["tinytest"], base_image=local, layout=layout, client=docker_client, labels=TEST_LABELS, echo=print)
    try:
        base, tiny = results
        assert base.ref != image_ref("base") and base.built, "a different parent must give a different base tag"
        assert docker_client.api.inspect_image(base.ref)["Config"]["Labels"]["worksample.image"] == "base"
        # Remembered: lookups and a plain rebuild resolve to the same tags.
        assert image_ref("tinytest", layout=layout) == tiny.ref
        assert not any(r.built for r in build_images(["tinytest"], layout=layout, client=docker_client, echo=print))
        # A registry on a closed loopback port: the pull fails without leaving this machine.
        with pytest.raises(WorksampleError, match="--base 127.0.0.1:9/nope:missing: not in the engine and pulling it failed"):
            build_images(["base"], base_image="127.0.0.1:9/nope:missing", layout=layout, client=docker_client, echo=print)
        build_images(["base"], base_image=DEBOOTSTRAP, layout=layout, client=docker_client, echo=print)
        assert image_ref("base", layout=layout) == image_ref("base")
    finally:
        for result in results:
            docker_client.images.remove(result.ref, force=True)


@pytest.mark.docker
def test_prune_removes_only_stale_tags_of_our_images(tiny_built, docker_client):
    layout = tiny_built
    current = require("base", docker_client, layout=layout)
    image = docker_client.images.get(current)
    image.tag("worksample/base", "000000000000")  # a tag left by older inputs
    image.tag("worksample/tinytest", "000000000000")
    image.tag("worksample/notours", "000000000000")
    try:
        removed = prune_images(layout=layout, client=docker_client, echo=print)
        assert "worksample/base:000000000000" in removed and "worksample/tinytest:000000000000" in removed
        assert current not in removed and "worksample/notours:000000000000" not in removed
        assert engine.image_exists(docker_client, current)
    finally:
        docker_client.images.remove("worksample/notours:000000000000")


@pytest.mark.docker
def test_require_names_the_unbuilt_image_and_what_to_run(tiny_built, docker_client):
    tiny_root = tiny_built
    (tiny_root.root / "tinytest" / "requirements.txt").write_text("iniconfig==2.3.1  # never built\n")
    ref = image_ref("tinytest", layout=tiny_root)
    with pytest.raises(ImageMissing, match=f"image {ref} is not built; run `worksample images build`"):
        require("tinytest", docker_client, layout=tiny_root)


def test_image_ref_needs_no_docker_and_require_says_docker_is_down(monkeypatch, tiny_root):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    ref = image_ref("tinytest", layout=tiny_root)
    assert ref.startswith("worksample/tinytest:") and len(ref.rsplit(":", 1)[1]) == 12
    with pytest.raises(DockerUnavailable, match="Docker engine is not reachable.*make up"):
        require("tinytest", layout=tiny_root)


def test_cli_build_without_docker_prints_one_line(tmp_path):
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "WORKSAMPLE_DATA_DIR": str(tmp_path)}
    worksample = Path(sys.executable).with_name("worksample")
    proc = subprocess.run([str(worksample), "images", "build"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Docker engine is not reachable" in proc.stderr, proc.stderr


def test_unpinned_requirement_is_an_error_naming_file_and_line(tiny_root):
    path = tiny_root.root / "tinytest" / "requirements.txt"
    path.write_text("iniconfig==2.3.1\nnumpy>=2\n")
    with pytest.raises(ImageSpecError, match=f"{path}:2: 'numpy>=2' is not pinned"):
        load_spec(tiny_root, "tinytest").pins()


def test_the_shared_install_stage_goes_first_and_into_the_tag(tiny_root):
    stage = tiny_root.root / "install.Dockerfile"
    spec = load_spec(tiny_root, "tinytest")
    assert spec.dockerfile() == stage.read_bytes() + b"\n" + TINY_DOCKERFILE.encode()
    assert load_spec(tiny_root, "base").dockerfile() == (tiny_root.root / "base" / "Dockerfile").read_bytes()
    before, base = image_ref("tinytest", layout=tiny_root), image_ref("base", layout=tiny_root)
    stage.write_text(stage.read_text() + "RUN true\n")
    assert image_ref("tinytest", layout=tiny_root) != before  # the stage is an input of every image using it
    assert image_ref("base", layout=tiny_root) == base  # the base has no requirements: not one of them
    stage.unlink()
    with pytest.raises(ImageSpecError, match=f"tinytest/image.toml: requirements: needs the shared install "
                                             f"stage {stage} \\(missing\\)"):
        load_spec(tiny_root, "tinytest")


@pytest.mark.docker
@pytest.mark.slow
def test_notebook_image_has_what_candidates_expect(real_images, docker_client):
    ref = require("notebook", docker_client, layout=real_images)
    out = run_in(
        docker_client, ref, "python", "-c",
        "import os, jupyterlab, ipykernel, pandas, numpy, sklearn, httpx, openai, tenacity; "
        "print(os.getuid(), os.getcwd(), jupyterlab.__version__)",
    )
    uid, cwd, _ = out.split()
    assert (uid, cwd) == ("1000", "/workspace")
    assert "python3" in run_in(docker_client, ref, "jupyter", "kernelspec", "list")


@pytest.mark.docker
@pytest.mark.slow
def test_grader_image_imports_the_grading_sdk_and_pytest(real_images, docker_client):
    ref = require("grader", docker_client, layout=real_images)
    out = run_in(docker_client, ref, "python", "-c",
                 "import os, worksample_grader, pytest, pandas, sklearn, nbformat, yaml; "
                 "print(os.getuid(), worksample_grader.__file__)")
    assert out.split() == ["1000", "/opt/graders/worksample_grader/__init__.py"]


@pytest.mark.docker
@pytest.mark.slow
def test_mockllm_image_runs_the_mock_entrypoint(real_images, docker_client):
    container = docker_client.containers.run(
        require("mockllm", docker_client, layout=real_images), ["--help"], detach=True, user="1000", network_mode="none",
        read_only=True, labels=TEST_LABELS,
    )
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0
        assert "serve" in container.logs().decode()
    finally:
        remove(container)


PROBE = {"version": "3.13.5", "libc": ("glibc", "2.41"), "machine": "x86_64", "abiflags": ""}


@pytest.mark.slow
def test_wheelhouse_refuses_requirements_that_are_not_fully_pinned(tiny_root):
    # python-dateutil needs six; leaving six out must fail, naming the file and the missing pin.
    path = tiny_root.root / "tinytest" / "requirements.txt"
    path.write_text("python-dateutil==2.9.0.post0\n")
    with pytest.raises(wheelhouse.WheelhouseError, match=r"requirements.txt: not fully pinned; .*six=="):
        wheelhouse.ensure(tiny_root, load_spec(tiny_root, "tinytest"), PROBE)
    path.write_text("python-dateutil==2.9.0.post0\nsix==1.17.0\n")
    folder = wheelhouse.ensure(tiny_root, load_spec(tiny_root, "tinytest"), PROBE)
    assert sorted(wheelhouse.wheel_pins(folder)) == ["python-dateutil", "six"]


def test_wheel_download_ignores_the_host_pip_configuration(monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/nonexistent")
    monkeypatch.setenv("PIP_CONSTRAINT", "/nonexistent/constraints.txt")
    env = wheelhouse.pip_env()
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert not {k for k in env if k.startswith("PIP_")} - {"PIP_CONFIG_FILE", "PIP_DISABLE_PIP_VERSION_CHECK"}


def test_missing_debootstrap_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(rootfs.RootfsUnavailable, match="apt-get install debootstrap"):
        rootfs.check_prerequisites()


def test_cli_unknown_image_is_a_usage_error():
    worksample = Path(sys.executable).with_name("worksample")
    proc = subprocess.run([str(worksample), "images", "build", "--only", "nosuch"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "error: --only nosuch: no such image; known: base, notebook, grader, mockllm\n"


@pytest.mark.docker
def test_failing_dockerfile_step_is_one_line_with_the_log(tiny_built, docker_client):
    dockerfile = tiny_built.root / "tinytest" / "Dockerfile"
    dockerfile.write_text("ARG PARENT\nFROM ${PARENT}\nRUN echo about to fail && exit 3\n")
    (tiny_built.root / "tinytest" / "image.toml").write_text('parent = "base"\n')
    with pytest.raises(engine.ImageBuildFailed, match=r"building worksample/tinytest:\w{12} failed: .*returned a non-zero code: 3 \(log: .*build-tinytest.log\)"):
        build_images(["tinytest"], layout=tiny_built, client=docker_client, labels=TEST_LABELS, echo=print)
    assert "about to fail" in (tiny_built.state_dir / "logs" / "build-tinytest.log").read_text()
    assert not engine.image_exists(docker_client, image_ref("tinytest", layout=tiny_built))
