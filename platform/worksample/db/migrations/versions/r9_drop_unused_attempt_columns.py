"""attempts: drop api_key_hash and workspace_path (written at Start, never read; issue 9)

The attempt's API key is derived from its id when needed and its workspace path
from the data dir, so neither column was ever read. A downgrade brings them back
empty: nothing read them, so nothing is lost that anything used."""
from alembic import op
import sqlalchemy as sa


revision = 'r9_drop_unused_attempt_columns'
down_revision = 'w17_attempt_host'


def upgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.drop_column('workspace_path')
        batch.drop_column('api_key_hash')


def downgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.add_column(sa.Column('api_key_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('workspace_path', sa.Text(), nullable=True))
