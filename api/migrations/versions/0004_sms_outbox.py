"""outbound SMS outbox, and a phone for staff accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:00:00.000000

``sms_outbox`` holds every text message to a resident: a case's receipt and its status changes
(已转办, 已办结, 清单外转办, 重新办理). A row is written in the transaction of the change it
reports and sent after the commit, so a failed send never loses the change and is retried.
Without Twilio credentials the rows are only recorded (status ``recorded``).

``users.phone``: a grid worker's own mobile, where the receipt goes when the resident they file
for has no phone.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("to_phone", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_sms_outbox_due", ["status", "next_at"], unique=False)
        batch_op.create_index("ix_sms_outbox_status_id", ["status", "id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_outbox_status_id")
        batch_op.drop_index("ix_sms_outbox_due")
        batch_op.drop_index(batch_op.f("ix_sms_outbox_case_id"))
    op.drop_table("sms_outbox")
