"""indexes behind the staff workbench queues

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:40:00.000000

The workbench opens its queues with a count on every tab. These indexes keep each of those
queries an index range scan with 50,000 cases in the table:

- 待审核/待转办: 已受理 cases by needs_review, with the item and confidence the queue sorts by
  (a covering index: the top 50 are picked without reading the table);
- 提级督办/重复投诉: escalated cases, and cases other cases were joined to as repeats or merges
  (``merge_into`` and ``check_escalation`` look these up too);
- 我的案件: a unit's cases by state;
- 联合研判: events flagged for joint review.

And one for the background worker, which looks for cases still to cluster every half second: it
read every classified case (15 ms at 50,000 cases, on the same two cores the pages use).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_review": ["state", "needs_review", "category", "confidence"],
    "ix_cases_escalation": ["escalation_level", "state"],
    "ix_cases_repeat_of": ["repeat_of_id"],
    "ix_cases_lead_case": ["lead_case_id"],
    "ix_cases_unit_state": ["unit_id", "state"],
    "ix_cases_joint_event": ["joint_review", "event_id", "state"],
    "ix_cases_cluster_pending": ["cluster_status", "triage_status"],
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
