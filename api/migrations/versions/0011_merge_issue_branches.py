"""merge: the multi-host (0008), labelling (0009) and operations (0010) branches

Revision ID: 0011
Revises: 0008, 0009, 0010
Create Date: 2026-12-05 05:30:00.000000

Three changes written in parallel each started from 0007; they touch different tables, so they
apply in any order. This revision joins them so the history has one head again and
``alembic upgrade head`` works as before.
"""

revision = "0011"
down_revision = ("0008", "0009", "0010")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the merge only joins the history."""


def downgrade() -> None:
    """Nothing to undo."""
