"""campaign scores for benchmarks

Revision ID: 45d4d8e4ef22
Revises: 786b280a4690
Create Date: 2026-11-23 11:07:00.857933

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '45d4d8e4ef22'
down_revision = '786b280a4690'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_score',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=True),
    sa.Column('sd', sa.Float(), nullable=True),
    sa.CheckConstraint('n >= 0', name=op.f('ck_campaign_score_n')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_score_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'dimension_id', name=op.f('pk_campaign_score'))
    )


def downgrade():
    op.drop_table('campaign_score')
