"""stored results: a closed campaign's computed report and rendered PDFs, shared by every process

Revision ID: d7f9b1c3e256
Revises: c6e8a0b2d145
Create Date: 2026-12-02 18:40:00.000000

Each row is one computed result: the campaign's report (its analysis, pickled and signed
with an HMAC under the app's secret key) or one rendered PDF, keyed by the SHA-256 of
what it depends on. Rows are a cache: deleting any of them loses nothing but the time to
compute it again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7f9b1c3e256'
down_revision = 'c6e8a0b2d145'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('report', 'pdf')", name=op.f('ck_stored_result_kind')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_stored_result_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_result')),
    sa.UniqueConstraint('campaign_id', 'kind', 'key', name=op.f('uq_stored_result_campaign_id_kind_key'))
    )
    with op.batch_alter_table('stored_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_result_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stored_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_result_campaign_id'))
    op.drop_table('stored_result')
