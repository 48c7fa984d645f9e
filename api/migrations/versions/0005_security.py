"""security: public ids, lockouts, login throttling, redacted text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:20:00.000000

``cases.public_id``: the Open311 feed's own random id, so the public feed no longer lists the
case numbers that (with a phone) open a resident's status page.
``cases.text_original``: the complaint as written; ``cases.text`` holds it with the
complainant's identity masked. Existing rows keep their text (the original is not known apart).
``throttle``: failed tries per case number, client and account, with lockouts, shared by every
process and host using the database.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("text_original", sa.Text(), nullable=True))
    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    ids = [row[0] for row in conn.execute(sa.select(cases.c.id).where(cases.c.public_id.is_(None)))]
    for case_id in ids:
        conn.execute(
            cases.update().where(cases.c.id == case_id).values(public_id=secrets.token_hex(8))
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_public_id", ["public_id"], unique=True)
    op.create_table(
        "throttle",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_throttle"),
    )


def downgrade() -> None:
    op.drop_table("throttle")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_public_id")
        batch_op.drop_column("text_original")
        batch_op.drop_column("public_id")
