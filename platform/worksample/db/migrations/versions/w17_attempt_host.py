"""attempts.host: the host that runs the attempt's pod (issue 17, several API hosts)"""
from alembic import op
import sqlalchemy as sa


revision = 'w17_attempt_host'
down_revision = 'h5_calibrations'


def upgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.add_column(sa.Column('host', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.drop_column('host')
