"""responses: a packed copy of each response's answers, one byte per item

Revision ID: c6e8a0b2d145
Revises: b4d6f8a1c023
Create Date: 2026-12-02 10:00:00.000000

The answer table stays the source of truth; ``response.answer_codes`` holds the same
answers in questionnaire item position order, one byte each: the value itself (0-100),
254 for "don't know" (a NULL value), 255 for a question without an answer row. Existing
responses are filled from their answer rows in batches of ids, in Python with Core
statements so that SQLite and PostgreSQL run the same code; the column becomes NOT NULL
once every response has its copy. The codes are repeated here rather than imported from
the app, so this migration keeps doing what it did when the app's code moves on.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6e8a0b2d145'
down_revision = 'b4d6f8a1c023'
branch_labels = None
depends_on = None

DONT_KNOW = 254
NO_ANSWER = 255
BATCH = 2000  # responses per read and write

response = sa.table(
    'response',
    sa.column('id', sa.Integer),
    sa.column('questionnaire_version_id', sa.Integer),
    sa.column('answer_codes', sa.LargeBinary),
)
answer = sa.table(
    'answer',
    sa.column('response_id', sa.Integer),
    sa.column('questionnaire_version_id', sa.Integer),
    sa.column('item_id', sa.String),
    sa.column('value', sa.Integer),
)
item = sa.table(
    'questionnaire_item',
    sa.column('questionnaire_version_id', sa.Integer),
    sa.column('item_id', sa.String),
    sa.column('position', sa.Integer),
)


def backfill(connection) -> None:
    """Write every response's packed answers from its answer rows."""
    n_items = dict(
        connection.execute(
            sa.select(item.c.questionnaire_version_id, sa.func.count()).group_by(
                item.c.questionnaire_version_id
            )
        ).all()
    )
    last = None
    while True:
        query = sa.select(response.c.id, response.c.questionnaire_version_id).order_by(
            response.c.id
        )
        if last is not None:
            query = query.where(response.c.id > last)
        batch = connection.execute(query.limit(BATCH)).all()
        if not batch:
            return
        codes = {
            response_id: bytearray([NO_ANSWER]) * n_items.get(version_id, 0)
            for response_id, version_id in batch
        }
        first, last = batch[0][0], batch[-1][0]
        answers = connection.execute(
            sa.select(answer.c.response_id, item.c.position, answer.c.value)
            .select_from(answer)
            .join(
                item,
                sa.and_(
                    item.c.questionnaire_version_id == answer.c.questionnaire_version_id,
                    item.c.item_id == answer.c.item_id,
                ),
            )
            .where(answer.c.response_id >= first, answer.c.response_id <= last)
        )
        for response_id, position, value in answers:
            codes[response_id][position] = DONT_KNOW if value is None else value
        connection.execute(
            sa.update(response)
            .where(response.c.id == sa.bindparam('response_id'))
            .values(answer_codes=sa.bindparam('codes')),
            [{'response_id': key, 'codes': bytes(value)} for key, value in codes.items()],
        )


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_codes', sa.LargeBinary(), nullable=True))
    backfill(op.get_bind())
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.alter_column('answer_codes', existing_type=sa.LargeBinary(), nullable=False)


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('answer_codes')
