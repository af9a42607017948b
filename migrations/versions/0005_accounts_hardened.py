"""accounts hardened: disabled users, session generations, two-step sign-in,
sign-in throttling, password resets, an audit log, API token expiry

Revision ID: b7e41c2a9f10
Revises: 8d9b5dd79e9a
Create Date: 2026-12-01 11:00:00.000000

Existing API tokens get an expiry 90 days after the day they were created (so a
token older than that stops working at the upgrade; issue a new one).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e41c2a9f10'
down_revision = '8d9b5dd79e9a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
    api_token = sa.table('api_token', sa.column('id', sa.Integer()), sa.column('created_on', sa.Date()), sa.column('expires_on', sa.Date()))
    connection = op.get_bind()
    import datetime as dt
    rows = connection.execute(sa.select(api_token.c.id, api_token.c.created_on)).all()
    for token_id, created_on in rows:
        connection.execute(
            api_token.update().where(api_token.c.id == token_id).values(expires_on=created_on + dt.timedelta(days=90))
        )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_on', existing_type=sa.Date(), nullable=False)

    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_sign_in_throttle_failures')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
    op.create_table('password_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_reset_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash'))
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_user_id'), ['user_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_audit_event_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_event'))
        batch_op.drop_index('ix_audit_event_occurred_at')
    op.drop_table('audit_event')
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_user_id'))
    op.drop_table('password_reset')
    op.drop_table('sign_in_throttle')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_on')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_generation')
        batch_op.drop_column('disabled')
