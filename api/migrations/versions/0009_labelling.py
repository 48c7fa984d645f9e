"""labelling: analysts' labels from a labelling queue, with why

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 20:15:00.000000

``labels.origin``: where a label came from (NULL: a supervisor's confirm/correct on the case
page; ``queue``: an analyst's label from the labelling queue, which does not change the case).
``labels.reason``: why the labeller chose it, in their words.
``label_queue``: the cases picked for analysts to label (where a label teaches the model most,
plus a random sample), why each was picked, and whether a second analyst labels it too (the
share the agreement between analysts is measured on).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    op.create_table(
        "label_queue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("why", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("double", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_label_queue_case_id", "label_queue", ["case_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_label_queue_case_id", table_name="label_queue")
    op.drop_table("label_queue")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("origin")
