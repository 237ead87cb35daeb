"""Candidate attempts: invitations, the attempt's pod with JupyterLab, the proxy, the clock, submission.

Modules, each owning one thing:
  invitations   invite tokens: create, resolve
  access        attempt cookies and the guess rate limit
  pods          the attempt's pod: workspace, JupyterLab on a unix socket, find it again, its reaper deadline
  jupyter       JupyterLab's configuration inside the pod
  attempts      start (by invite token), state, the pod for a running attempt
  deadlines     the clock: start, extend, revoke, the deadline job and the sweep
  snapshot      copy a workspace out without trusting it
  submit        hand the work in (Submit, or the deadline)
  activity      what the candidate did (cells run, saves, kernel restarts)
  proxy         HTTP and websocket reverse proxy to the pod's JupyterLab

The task rows come from `worksample.catalog.sync`.
"""

from worksample.errors import Conflict, DomainError, NotFound


class AttemptNotFound(NotFound):
    """No attempt (or invitation) with that id."""


class AttemptClosed(Conflict):
    """The attempt has ended (submitted, expired or revoked); the message says which."""


class AttemptNotStarted(Conflict):
    """The candidate pressed Submit before their workspace first answered: their clock has not started and
    there is nothing of theirs to hand in yet (409). The deadline still hands in whatever there is."""


class AttemptElsewhere(DomainError):
    """The attempt is pinned to another host (its pod and workspace are there): only an API on that host can
    proxy or submit it (421; the message names the host). W, issue 17."""

    http_status = 421
