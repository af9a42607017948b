"""comments: a consultant can hide a comment that names a person

Revision ID: d4f2a8c6b913
Revises: c3a9d5e7f211
Create Date: 2026-12-14 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f2a8c6b913'
down_revision = 'c3a9d5e7f211'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_hidden', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('comment_hidden')
