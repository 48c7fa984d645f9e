"""conversation: where exactly, whether the gazetteer knows it, and the item the resident confirmed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:20:00.000000

``cases.village_group``: the 村民组 the resident named (四组), beside the village.
``cases.village_flagged``: the village said is not in the county's gazetteer (config/places.yml):
kept as said, for staff to check.
``cases.resident_category``: the item the resident confirmed when the bot read the complaint
back. Stored with the case at intake, so whichever classifier gets to the case first (the
filing request or the background worker) applies it; before, the worker could win the race and
the resident's choice was lost.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("village_group", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("village_flagged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("resident_category", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("resident_category")
        batch_op.drop_column("village_flagged")
        batch_op.drop_column("village_group")
