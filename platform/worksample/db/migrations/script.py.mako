"""${message}"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# Only what Alembic reads: the ids (the message above says what it does; git says when).
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
% if branch_labels:
branch_labels = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
