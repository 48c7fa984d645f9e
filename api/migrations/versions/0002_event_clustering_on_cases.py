"""event clustering on cases; index cases by reporter

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 08:24:17.956787
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("case_number", sa.String(length=8), nullable=False),
        sa.Column("other_number", sa.String(length=8), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cluster_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_decisions_applied"), ["applied"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cluster_status", sa.String(length=10), nullable=False, server_default="pending"
            )
        )
        batch_op.add_column(sa.Column("event_id", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("event_reporters", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("joint_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_cases_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_reporter_id"), ["reporter_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_cases_event_id"))
        batch_op.drop_column("joint_review")
        batch_op.drop_column("event_reporters")
        batch_op.drop_column("event_id")
        batch_op.drop_column("cluster_status")

    with op.batch_alter_table("cluster_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_decisions_applied"))

    op.drop_table("cluster_decisions")
