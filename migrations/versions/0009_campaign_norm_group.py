"""campaigns: the norm group a consultant chose for the campaign's report

Revision ID: a3c5e7f90b12
Revises: e7b1c4d9a205
Create Date: 2026-12-01 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c5e7f90b12'
down_revision = 'e7b1c4d9a205'
branch_labels = None
depends_on = None


def upgrade():
    # NULL is "all organisations", the report's benchmark before this column existed.
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('norm_group', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('norm_group')
