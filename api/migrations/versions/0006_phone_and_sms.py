"""phone and SMS: delivery status, resends, voicemail length

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:20:00.000000

``sms_outbox``: what the provider's delivery-status callbacks said (``delivery_status``:
delivered, failed, undelivered; ``error_code``; ``status_at``), looked up by the provider's
message id; ``resend_of_id``/``resent_by_id``: a supervisor's resend of a failed text is a new
row pointing at the one it repeats.

``cases.audio_seconds``: a voicemail's length. A voicemail waits in the 待听录音 queue with
``triage_status = 'recording'`` (no item, no deadline) until a person types what was said.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resend_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resent_by_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_sms_outbox_provider_sid", ["provider_sid"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("audio_seconds")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_outbox_provider_sid")
        batch_op.drop_column("resent_by_id")
        batch_op.drop_column("resend_of_id")
        batch_op.drop_column("status_at")
        batch_op.drop_column("error_code")
        batch_op.drop_column("delivery_status")
