"""campaign operations: privacy settings and result date on campaigns, department-scoped
managers, e-mail recipients, mailings and outgoing messages

Revision ID: c3a9d5e7f211
Revises: b7e41c2a9f10
Create Date: 2026-12-01 12:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9d5e7f211'
down_revision = 'b7e41c2a9f10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('controller', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('controller_contact', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('results_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('max_reminders', sa.Integer(), server_default='2', nullable=False))
        batch_op.create_check_constraint('retention', 'retention_months IS NULL OR retention_months BETWEEN 1 AND 120')
        batch_op.create_check_constraint('max_reminders', 'max_reminders BETWEEN 0 AND 5')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_department_id_department'), 'department', ['department_id'], ['id'])
        batch_op.create_check_constraint('department_scope', "department_id IS NULL OR role = 'manager'")

    op.create_table('recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('sealed_link', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_recipient_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_recipient_department_id_department')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_recipient_invitation_id_invitation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipient')),
    sa.UniqueConstraint('campaign_id', 'email', name=op.f('uq_recipient_campaign_id_email')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_recipient_invitation_id'))
    )
    with op.batch_alter_table('recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipient_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('mailing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('send_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('invitation', 'reminder')", name=op.f('ck_mailing_kind')),
    sa.CheckConstraint("status IN ('scheduled', 'sending', 'done', 'cancelled')", name=op.f('ck_mailing_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_mailing_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing'))
    )
    with op.batch_alter_table('mailing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailing_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outgoing_mail_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outgoing_mail_attempts')),
    sa.ForeignKeyConstraint(['mailing_id'], ['mailing.id'], name=op.f('fk_outgoing_mail_mailing_id_mailing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipient.id'], name=op.f('fk_outgoing_mail_recipient_id_recipient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mail')),
    sa.UniqueConstraint('mailing_id', 'recipient_id', name=op.f('uq_outgoing_mail_mailing_id_recipient_id'))
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mail_mailing_id'), ['mailing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mail_recipient_id'), ['recipient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_mailing_id'))
    op.drop_table('outgoing_mail')
    with op.batch_alter_table('mailing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailing_campaign_id'))
    op.drop_table('mailing')
    with op.batch_alter_table('recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipient_campaign_id'))
    op.drop_table('recipient')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('department_scope', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_user_account_department_id_department'), type_='foreignkey')
        batch_op.drop_column('department_id')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint('max_reminders', type_='check')
        batch_op.drop_constraint('retention', type_='check')
        batch_op.drop_column('max_reminders')
        batch_op.drop_column('results_on')
        batch_op.drop_column('retention_months')
        batch_op.drop_column('controller_contact')
        batch_op.drop_column('controller')
