"""case counts in stripes: concurrent filings no longer queue on the same count rows

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:00:00.000000

Every new case of a week added to the same few ``case_counts`` rows in its own transaction, so
on PostgreSQL concurrent filings waited on each other's row locks (issue 15: intake 138/s with
the counts against 181/s without). Each group may now be kept in several rows (``stripe``,
``api.case_counts.STRIPES``) that its readers add up; the rows already kept become stripe 0.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GROUP = [
    "kind",
    "week",
    "day",
    "township",
    "category",
    "channel",
    "unit_id",
    "filed_by_id",
    "bucket",
]


def upgrade() -> None:
    with op.batch_alter_table("case_counts", recreate="auto") as batch:
        batch.add_column(sa.Column("stripe", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("pk_case_counts", type_="primary")
        batch.create_primary_key("pk_case_counts", [*GROUP, "stripe"])


def downgrade() -> None:
    """Back to one row per group: the stripes are added up first."""
    counters = [
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
    ]
    keys = ", ".join(GROUP)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in counters)
    op.execute(
        f"CREATE TEMPORARY TABLE case_counts_sum AS SELECT {keys}, {sums} FROM case_counts "
        f"GROUP BY {keys}"
    )
    op.execute("DELETE FROM case_counts")
    with op.batch_alter_table("case_counts", recreate="auto") as batch:
        batch.drop_constraint("pk_case_counts", type_="primary")
        batch.drop_column("stripe")
        batch.create_primary_key("pk_case_counts", GROUP)
    op.execute(
        f"INSERT INTO case_counts ({keys}, {', '.join(counters)}) SELECT * FROM case_counts_sum"
    )
    op.execute("DROP TABLE case_counts_sum")
