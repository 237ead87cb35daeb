import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_compose_file_is_valid_and_demands_secrets():
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "WORKSAMPLE_SECRET_KEY": "k", "POSTGRES_PASSWORD": "p"}
    ok = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], cwd=REPO, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    for service in ("api:", "worker:", "redis:", "postgres:"):
        assert service in ok.stdout
    # Without the secrets the deployment refuses to start rather than run with defaults.
    bad = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=REPO,
                         env={"PATH": env["PATH"]}, capture_output=True, text=True)
    assert bad.returncode != 0 and "WORKSAMPLE_SECRET_KEY" in bad.stderr
