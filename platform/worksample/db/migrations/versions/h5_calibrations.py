"""task calibrations recorded by `worksample task test --record` (issue 10)"""
from alembic import op
import sqlalchemy as sa


revision = 'h5_calibrations'
down_revision = 'h4_staff_sessions_reviews'


def upgrade() -> None:
    op.create_table('calibrations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('task_slug', sa.String(length=100), nullable=False),
    sa.Column('task_version', sa.String(length=64), nullable=False),
    sa.Column('seeds', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('pass_threshold', sa.Float(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_calibrations_task_slug', 'calibrations', ['task_slug'])
    op.create_index('ix_calibrations_created_at', 'calibrations', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_calibrations_created_at', table_name='calibrations')
    op.drop_index('ix_calibrations_task_slug', table_name='calibrations')
    op.drop_table('calibrations')
