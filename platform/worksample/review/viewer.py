"""Who is looking, and what blind review hides from them.

Under blind review (`WORKSAMPLE_BLIND_REVIEW`, on by default) a reviewer sees
a pseudonym such as "Candidate K7Q2" instead of a candidate's name and email,
everywhere (pages, API, CSV). The pseudonym is an HMAC of the invitation id
under the secret key: stable across pages and restarts, unlinkable across
invitations, and not reversible without the key. The same keyed hash, over the
reviewer's id and the submission's, gives each reviewer their own stable
shuffled queue order (grading in submission order biases scores).
Admins always see names.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from worksample.config import get_settings
from worksample.db.models import Role

# No 0/O, 1/I/L: a pseudonym is read aloud in hiring meetings.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _mac(*parts: str) -> bytes:
    key = get_settings().secret_key.encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()


def pseudonym(invitation_id: str) -> str:
    """The stable pseudonym of an invitation's candidate, e.g. "Candidate K7Q2"."""
    return _pseudonym(get_settings().secret_key, invitation_id)


@lru_cache(maxsize=100_000)
def _pseudonym(key: str, invitation_id: str) -> str:  # keyed by the secret too: a new secret, new names
    number = int.from_bytes(hmac.new(key.encode(), f"pseudonym\x1f{invitation_id}".encode(), hashlib.sha256)
                            .digest()[:8], "big")
    code = ""
    for _ in range(4):
        number, digit = divmod(number, len(ALPHABET))
        code += ALPHABET[digit]
    return f"Candidate {code}"


@dataclass(frozen=True)
class Viewer:
    """A staff member looking at candidates: `blind` when names must be hidden from them."""

    user_id: str
    role: Role
    blind: bool

    @classmethod
    def of(cls, user_id: str, role: Role) -> "Viewer":
        """The viewer for a user, with the platform's blind-review setting applied (never blind for admins)."""
        return cls(user_id, role, bool(get_settings().blind_review) and role is not Role.admin)

    @property
    def is_admin(self) -> bool:
        """Admins see names, every review, and may decide."""
        return self.role is Role.admin

    def candidate(self, invitation_id: str, name: str) -> str:
        """What this viewer calls the candidate: their name, or the pseudonym under blind review."""
        return pseudonym(invitation_id) if self.blind else name

    def email(self, email: str) -> str | None:
        """The candidate's email, or None under blind review."""
        return None if self.blind else email

    def queue_key(self, submission_id: str) -> bytes:
        """This viewer's stable shuffle position for a submission."""
        return _mac("queue", self.user_id, submission_id)
