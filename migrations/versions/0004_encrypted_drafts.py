"""drafts encrypted at rest

Revision ID: 8d9b5dd79e9a
Revises: 5531c0ad63a9
Create Date: 2026-12-01 09:30:00.000000

A draft's language, role level, answers, comment and step become one AES-GCM blob
whose key is derived from the respondent's link (surveyapp/services/drafts.py).

Existing drafts are DELETED by the upgrade: they are readable text, and encrypting
them would need the links' tokens, which the database does not hold. A respondent
who had started the survey opens the same link and starts again at the language
page; submitted responses are not touched. The downgrade likewise deletes the
encrypted drafts, which cannot be turned back into readable columns.

Both directions drop and recreate the table. On SQLite, secure_delete zeroes the old
rows in the database file; the write-ahead log keeps them until the next full
checkpoint (the app runs one after each submission, and SQLite when the last
connection closes).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d9b5dd79e9a'
down_revision = '5531c0ad63a9'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('draft')
    op.create_table('draft',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_draft_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', name=op.f('pk_draft'))
    )


def downgrade():
    op.drop_table('draft')
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
