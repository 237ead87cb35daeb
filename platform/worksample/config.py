"""The one place settings live: environment variables, with safe defaults.

Every setting reads `WORKSAMPLE_<NAME>` except the conventional
`DATABASE_URL`, `REDIS_URL` and `DOCKER_HOST`.
"""

from __future__ import annotations

import json
import os
import socket
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-not-secret"
REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Platform settings. Construct through `get_settings()` so there is one."""

    model_config = SettingsConfigDict(env_prefix="WORKSAMPLE_", extra="ignore")

    env: str = Field("development", description="development | production; production refuses the default secret")
    data_dir: Path = Field(Path("var"), description="Workspaces, artifacts, logs, reports and the SQLite file")
    tasks_dir: Path = Field(REPO_ROOT / "tasks", description="The task catalog: one folder per task")
    secret_key: str = Field(DEV_SECRET, description="Signs cookies; must be set outside development")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "WORKSAMPLE_DATABASE_URL"),
        description="SQLAlchemy URL; default a SQLite file under the data dir",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "WORKSAMPLE_REDIS_URL"),
        description="Redis for the job queue; unset means `worksample up` starts its own",
    )
    docker_host: str | None = Field(
        None,
        validation_alias=AliasChoices("DOCKER_HOST", "WORKSAMPLE_DOCKER_HOST"),
        description="Docker engine address; default the local socket",
    )
    image_prefix: str = Field("worksample", description="Repository name prefix of the sandbox images")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL printed in invite links; unset: what "
                            "`worksample up` serves on this data dir, else this default")

    # --- Review (H4, DESIGN §11): staff sessions and blind review ---
    blind_review: bool = Field(True, description="Reviewers see stable pseudonyms instead of candidate names and "
                                                 "emails, and a shuffled queue; admins always see names")
    session_idle_hours: float = Field(12.0, gt=0, description="A staff session ends after this long without a request")

    # --- Admin console and integrations (H6, DESIGN §12): webhooks and invitation e-mail ---
    webhook_allow_private: bool = Field(False, description="Allow webhook URLs on loopback and private networks "
                                                           "(link-local/metadata addresses stay refused)")
    webhook_retry_delays: str = Field("5,300,1800,7200,18000", description="Seconds before each retry of a failed "
                                      "webhook delivery (comma-separated; default 6 tries over about 7.5 h)")
    webhook_timeout_s: float = Field(10.0, gt=0, le=60, description="Seconds a receiver has to answer one try")
    smtp_url: str | None = Field(None, description="smtp://[user:pass@]host[:port][?starttls=1] or smtps://…; "
                                 "when set, invitations are mailed, else links are shown to copy")
    mail_from: str = Field("worksample <noreply@localhost>", description="From: address of invitation e-mail")
    # --- end H6 ---

    # --- Reliability (H7, issue 13): the worker's watchdog ---
    job_stall_s: float = Field(60.0, ge=2, description="A job whose work horse shows no progress for this many "
                               "seconds is killed, logged and retried (the worker's watchdog)")
    worker_waits_for_engine: bool = Field(False, description="With workers on several Docker hosts: a worker "
                                          "whose own engine does not answer takes no job until it does, so the "
                                          "other hosts drain the queue (off: a lone host's worker waits "
                                          "worker_engine_grace_s, then its gradings fail and end in a clear error)")
    worker_engine_grace_s: float = Field(0.0, ge=0, description="A lone host's worker whose Docker engine does "
                                         "not answer takes no job for this many seconds (an engine restart then "
                                         "costs no grading a try); after that it takes jobs, which end in a clear "
                                         "error, and waits again only after as long again. `worksample up` sets "
                                         "120 unless set; 0: take jobs at once")

    @model_validator(mode="after")
    def _public_url_from_up(self) -> "Settings":
        # Unset WORKSAMPLE_PUBLIC_URL: links name what a running `worksample up` on this data dir serves
        # (its run file), not a fixed port. Set through __dict__ so it does not count as set explicitly.
        if "public_url" not in self.model_fields_set:
            try:
                info = json.loads((self.data_dir.expanduser() / "up.json").read_text())
                os.kill(int(info["pid"]), 0)
                self.__dict__["public_url"] = str(info["url"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return self
    # --- end H7 ---

    # --- Architecture (H1, issue 9): labels added to pods (tests mark theirs; operators may tag them) ---
    pod_labels: str = Field("", description="`k=v,k=v` labels added to every attempt pod (tests set worksample.test=1)")
    grading_pod_labels: str = Field("", description="`k=v,k=v` labels added to every grading pod")

    @staticmethod
    def label_map(text: str) -> dict[str, str]:
        """`k=v,k=v` as a dict (items without `=` or with an empty key are ignored)."""
        pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
        return {k.strip(): v.strip() for k, v in pairs if k.strip()}
    # --- end H1 ---

    # --- Scale (W, issue 17): the warm pool and the host an attempt is pinned to ---
    warm_pool: int = Field(0, ge=0, le=20, description="Pods kept started per task, JupyterLab up, for Start to "
                           "claim (the API refills them in the background); `worksample up` sets 1 unless set, "
                           "tests leave it 0")
    host_name: str = Field(default_factory=socket.gethostname, description="This host's name as recorded on the "
                           "attempts it starts; an API proxies only attempts recorded with its own host name "
                           "(several API hosts: give each a distinct one; see docs/scaling.md)")
    # --- end W ---

    # --- Capacity (C, issues 13/17): cold pod starts at once on this host, and how many may wait ---
    start_concurrency: int = Field(default_factory=lambda: max(2, len(os.sched_getaffinity(0))), ge=1, le=256,
                                   description="Cold attempt pods (containers, mock, JupyterLab booting) started "
                                   "at once on this host; more Starts wait in line, first come first served, and "
                                   "their clock starts when their workspace answers. Warm pool claims skip the "
                                   "line. Default: the usable cores, at least 2")
    start_queue_max: int = Field(500, ge=0, le=100_000, description="Starts that may wait in line for a cold "
                                 "start; past it Start answers 503 with Retry-After and starts no clock")
    # --- end C ---

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.env != "development" and self.secret_key == DEV_SECRET:
            raise ValueError("WORKSAMPLE_SECRET_KEY must be set when WORKSAMPLE_ENV is not development")
        return self

    @property
    def resolved_data_dir(self) -> Path:
        """The data dir as an absolute path (created on first use)."""
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def private_dir(self, *parts: str) -> Path:
        """`<data dir>/<parts...>`, created on first use readable by this user only (mode 0700)."""
        path = self.resolved_data_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the default SQLite file under the data dir."""
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'worksample.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
