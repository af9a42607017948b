"""initial schema

Revision ID: 786b280a4690
Revises: 
Create Date: 2026-11-23 10:57:11.705007

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '786b280a4690'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=80), nullable=False),
    sa.Column('size_band', sa.String(length=16), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.CheckConstraint("size_band IN ('1-49', '50-249', '250-999', '1000+')", name=op.f('ck_organisation_size_band')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('questionnaire_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('scale_min', sa.Integer(), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.CheckConstraint('scale_max > scale_min', name=op.f('ck_questionnaire_version_scale_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_version')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_questionnaire_version_key_version'))
    )
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('min_comment_group_size', sa.Integer(), nullable=False),
    sa.Column('frozen_on', sa.Date(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f('ck_campaign_status')),
    sa.CheckConstraint('closes_on > opens_on', name=op.f('ck_campaign_dates')),
    sa.CheckConstraint('min_comment_group_size >= min_group_size', name=op.f('ck_campaign_comment_threshold')),
    sa.CheckConstraint('min_group_size >= 3', name=op.f('ck_campaign_min_group_size')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_campaign_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_campaign_questionnaire_version_id_questionnaire_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.CheckConstraint('headcount IS NULL OR headcount >= 0', name=op.f('ck_department_headcount')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_department_not_own_parent')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_department_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['parent_id'], ['department.id'], name=op.f('fk_department_parent_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('organisation_id', 'code', name=op.f('uq_department_organisation_id_code'))
    )
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('questionnaire_item',
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=80), nullable=False),
    sa.Column('dimension_id', sa.String(length=80), nullable=False),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_questionnaire_item_questionnaire_version_id_questionnaire_version')),
    sa.PrimaryKeyConstraint('questionnaire_version_id', 'item_id', name=op.f('pk_questionnaire_item'))
    )
    op.create_table('scale_point',
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_scale_point_questionnaire_version_id_questionnaire_version')),
    sa.PrimaryKeyConstraint('questionnaire_version_id', 'value', name=op.f('pk_scale_point'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(role = 'consultant' AND organisation_id IS NULL) OR (role = 'manager' AND organisation_id IS NOT NULL)", name=op.f('ck_user_account_manager_scope')),
    sa.CheckConstraint("role IN ('consultant', 'manager')", name=op.f('ck_user_account_role')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('campaign_department',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('parent_department_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_department_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_campaign_department_department_id_department')),
    sa.ForeignKeyConstraint(['parent_department_id'], ['department.id'], name=op.f('fk_campaign_department_parent_department_id_department')),
    sa.PrimaryKeyConstraint('campaign_id', 'department_id', name=op.f('pk_campaign_department'))
    )
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_invitation_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_invitation_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('role_level', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint("role_level IN ('top_management', 'middle_management', 'employee', 'conversation_team')", name=op.f('ck_response_role_level')),
    sa.CheckConstraint("source IN ('web', 'import')", name=op.f('ck_response_source')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_response_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_response_department_id_department')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_response_questionnaire_version_id_questionnaire_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('id', 'questionnaire_version_id', name=op.f('uq_response_id_questionnaire_version_id'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_campaign_department', ['campaign_id', 'department_id'], unique=False)

    op.create_table('answer',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=80), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['questionnaire_version_id', 'item_id'], ['questionnaire_item.questionnaire_version_id', 'questionnaire_item.item_id'], name='fk_answer_item'),
    sa.ForeignKeyConstraint(['questionnaire_version_id', 'value'], ['scale_point.questionnaire_version_id', 'scale_point.value'], name='fk_answer_scale_point'),
    sa.ForeignKeyConstraint(['response_id', 'questionnaire_version_id'], ['response.id', 'response.questionnaire_version_id'], name='fk_answer_response', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_id', name=op.f('pk_answer'))
    )
    op.create_table('draft',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('role_level', sa.String(length=40), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_draft_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', name=op.f('pk_draft'))
    )


def downgrade():
    op.drop_table('draft')
    op.drop_table('answer')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_campaign_department')

    op.drop_table('response')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_campaign_id'))

    op.drop_table('invitation')
    op.drop_table('campaign_department')
    op.drop_table('user_account')
    op.drop_table('scale_point')
    op.drop_table('questionnaire_item')
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_organisation_id'))

    op.drop_table('department')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_organisation_id'))

    op.drop_table('campaign')
    op.drop_table('questionnaire_version')
    op.drop_table('organisation')
