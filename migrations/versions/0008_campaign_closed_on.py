"""campaigns: the day a campaign actually closed (it may close before its planned date)

Revision ID: e7b1c4d9a205
Revises: d4f2a8c6b913
Create Date: 2026-12-01 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b1c4d9a205'
down_revision = 'd4f2a8c6b913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
    # Campaigns closed before this column existed: the planned closing day is the best
    # that is known (they were closed on it or after it in the usual course).
    op.execute("UPDATE campaign SET closed_on = closes_on WHERE status = 'closed'")


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
