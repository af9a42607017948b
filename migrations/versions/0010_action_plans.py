"""action plans: up to three focus dimensions per closed campaign, and actions for each

Revision ID: b4d6f8a1c023
Revises: a3c5e7f90b12
Create Date: 2026-12-01 16:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4d6f8a1c023'
down_revision = 'a3c5e7f90b12'
branch_labels = None
depends_on = None


def upgrade():
    # At most three focus dimensions per plan: positions 1 to 3, each used once.
    op.create_table('action_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_action_plan_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_plan')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_action_plan_campaign_id'))
    )
    op.create_table('action_focus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('position BETWEEN 1 AND 3', name=op.f('ck_action_focus_position')),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plan.id'], name=op.f('fk_action_focus_plan_id_action_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_focus')),
    sa.UniqueConstraint('plan_id', 'dimension_id', name=op.f('uq_action_focus_plan_id_dimension_id')),
    sa.UniqueConstraint('plan_id', 'position', name=op.f('uq_action_focus_plan_id_position'))
    )
    with op.batch_alter_table('action_focus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_focus_plan_id'), ['plan_id'], unique=False)

    op.create_table('planned_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('focus_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.CheckConstraint("owner <> ''", name=op.f('ck_planned_action_owner')),
    sa.CheckConstraint("status IN ('planned', 'under_way', 'done', 'dropped')", name=op.f('ck_planned_action_status')),
    sa.CheckConstraint("text <> ''", name=op.f('ck_planned_action_text')),
    sa.ForeignKeyConstraint(['focus_id'], ['action_focus.id'], name=op.f('fk_planned_action_focus_id_action_focus'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_action'))
    )
    with op.batch_alter_table('planned_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_action_focus_id'), ['focus_id'], unique=False)


def downgrade():
    with op.batch_alter_table('planned_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_action_focus_id'))

    op.drop_table('planned_action')
    with op.batch_alter_table('action_focus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_focus_plan_id'))

    op.drop_table('action_focus')
    op.drop_table('action_plan')
