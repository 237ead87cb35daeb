"""The core tables. Statuses are `str` enums so the database holds readable words."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, Float, Boolean
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from worksample.db.types import UTCDateTime


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A random id for rows users see in URLs (not guessable, not sequential)."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Role(str, enum.Enum):
    admin = "admin"
    reviewer = "reviewer"


class AttemptStatus(str, enum.Enum):
    running = "running"
    submitted = "submitted"
    expired = "expired"
    revoked = "revoked"  # an admin withdrew the invitation while the clock ran: no submission


class SubmissionStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    graded = "graded"
    error = "error"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Store values as plain strings with no database-level enum type, so a new
    # status is a code change, not a schema migration on every backend.
    return Enum(cls, native_enum=False, create_constraint=False, length=20, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token for scripts; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class Task(Base):
    """A task imported from the catalog; `version` is the content hash of its folder."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Invitation(Base):
    """One link for one candidate; only the token's sha256 is stored."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    candidate_name: Mapped[str] = mapped_column(String(200))
    candidate_email: Mapped[str] = mapped_column(String(320))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    task: Mapped[Task] = relationship()


class Attempt(Base):
    """A candidate's clock: one per invitation."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus), default=AttemptStatus.running)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    pod_id: Mapped[str | None] = mapped_column(String(64))
    # api_key_hash and workspace_path were written at Start and never read: dropped (issue 9, migration r9).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activity: Mapped[list] = mapped_column(JSON, default=list)
    # W (issue 17): the host whose engine and data dir hold the attempt's pod and workspace (settings
    # `host_name`); only an API on that host can proxy it (migration w17_attempt_host). None: before w17.
    host: Mapped[str | None] = mapped_column(String(255))

    invitation: Mapped[Invitation] = relationship()

    @property
    def clock_started(self) -> bool:
        """False while a running attempt's first workspace is still being brought up (no pod has answered):
        its clock starts when one does (`worksample.workspace.attempts.ensure_attempt_pod`)."""
        return self.pod_id is not None or self.status is not AttemptStatus.running


class Submission(Base):
    """Work handed in: a row plus artifacts on disk, written before it is queued."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("attempts.id"), unique=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    status: Mapped[SubmissionStatus] = mapped_column(_enum(SubmissionStatus), default=SubmissionStatus.queued)
    artifacts_path: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    task: Mapped[Task] = relationship()


class Report(Base):
    """A grading report; a re-grade adds a version and keeps the old ones."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("submission_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ---------------------------------------------------------------------------
# H6 admin console: audit log and webhooks (issue 14). Owned by worksample.audit
# and worksample.webhooks; migration a6_admin_audit_webhooks.
# ---------------------------------------------------------------------------


class AuditEvent(Base):
    """One staff action (or a failed login), written by `worksample.audit.record`."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(320))  # name or e-mail as given (failed logins have no id)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    client: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Webhook(Base):
    """An endpoint that receives signed events; `secret` is the whsec_ string (HMAC needs it in clear)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookEvent(Base):
    """One event as sent: `body` is the exact JSON text that is signed and posted on every try."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_<hex>: the webhook-id header
    type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: pending until a 2xx, failed when the tries run out, cancelled on delete."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[WebhookEvent] = relationship()


class WebhookTry(Base):
    """One HTTP request of a delivery: when, how long, the status code or the error."""

    __tablename__ = "webhook_tries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)  # the first bytes of the receiver's answer


# --- Staff accounts, sessions, reviews and decisions (H4: review, DESIGN §11) ---------------------------
# Kept at the end as one block; `users` above gained nothing but its existing `password_hash`.


class Recommendation(str, enum.Enum):
    strong_no = "strong_no"
    no = "no"
    yes = "yes"
    strong_yes = "strong_yes"


class DecisionKind(str, enum.Enum):
    advance = "advance"
    reject = "reject"
    hold = "hold"


class AccountSetupLink(Base):
    """A one-time link where a staff member chooses a password; only the token's sha256 is stored."""

    __tablename__ = "account_setup_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A browser login. The row's key is the sha256 of the cookie value, so a database leak logs no one in."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginThrottle(Base):
    """Failed logins in the current window for one key (`email:…` or `client:…`), shared by every API replica."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Review(Base):
    """One reviewer's rubric scores, recommendation and comment for one submission (updatable)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    recommendation: Mapped[Recommendation] = mapped_column(_enum(Recommendation))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reviewer: Mapped[User] = relationship()


class Decision(Base):
    """An admin's hiring decision on a submission; the newest row is the current one (history is kept)."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    decision: Mapped[DecisionKind] = mapped_column(_enum(DecisionKind))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decider: Mapped[User | None] = relationship()
# --- end H4 ---


# --- Task calibrations (H5 validity, DESIGN §13): `worksample task test --record` ---------------------------
# Written by worksample.grading.calibration; read by the /tasks page (latest_calibrations). Migration h5_calibrations.


class Calibration(Base):
    """One `task test` run: the reference and every baseline graded under N seeds, with the verdict."""

    __tablename__ = "calibrations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task_slug: Mapped[str] = mapped_column(String(100), index=True)
    task_version: Mapped[str] = mapped_column(String(64), default="")
    seeds: Mapped[int] = mapped_column(Integer, default=1)
    ok: Mapped[bool] = mapped_column(Boolean)  # reference passed under every seed, every baseline failed as named
    pass_threshold: Mapped[float] = mapped_column(Float)
    results: Mapped[list] = mapped_column(JSON)  # [{candidate, seed, score, max_score, passed, margin, gates_failed, ...}]
    problems: Mapped[list] = mapped_column(JSON)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
# --- end H5 ---
