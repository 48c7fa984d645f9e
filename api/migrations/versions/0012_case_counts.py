"""case counts: the dashboard's and weekly report's counts kept as cases change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:30:00.000000

``case_counts`` (``api.case_counts``): the office's counts per Beijing week, township, item,
channel, unit and filer (and per deadline, week closed, and confidence for the drift watch),
added to in the same transaction as every change of a case, so 统计 and 周报 read a few
thousand rows instead of counting 500,000 cases on every load (issue 17). Filled here from the
cases already stored, with the same code the service keeps them with.

Two indexes on ``cases`` for what the counts cannot answer: the events received in the last two
weeks (the fastest-growing events, a tenth of the cases), and the cases whose confidence is
within a hundredth of the model's review threshold (the drift watch's one partial bucket).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_counts",
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("township", sa.String(length=50), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False, server_default="0")
            for name in (
                "cases",
                "total",
                "closed",
                "on_time",
                "timely",
                "rated",
                "satisfied",
                "referred",
                "merged",
                "open_due",
            )
        ),
        sa.PrimaryKeyConstraint(
            "kind",
            "week",
            "day",
            "township",
            "category",
            "channel",
            "unit_id",
            "filed_by_id",
            "bucket",
            name="pk_case_counts",
        ),
    )
    event_cases = sa.text("event_id IS NOT NULL")
    op.create_index(
        "ix_cases_recent_events",
        "cases",
        ["received_at", "event_id", "event_reporters", "unit_id", "filed_by_id"],
        postgresql_where=event_cases,
        sqlite_where=event_cases,
    )
    op.create_index("ix_cases_confidence", "cases", ["confidence", "received_at", "category"])
    # The counts as of now, with the rules the service keeps them by (one definition of each).
    from api.case_counts import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_cases_confidence", table_name="cases")
    op.drop_index("ix_cases_recent_events", table_name="cases")
    op.drop_table("case_counts")
