"""Database layer: SQLAlchemy 2 models, sessions and Alembic migrations.

The database is the source of truth; Redis only carries jobs.
"""

from worksample.db.models import (  # noqa: F401
    ApiToken,
    Attempt,
    Base,
    Invitation,
    Report,
    Submission,
    Task,
    User,
)
from worksample.db.session import database_status, get_engine, migrate, session_scope  # noqa: F401
