"""security: public ids, lockouts, login throttling, redacted text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:20:00.000000

``cases.public_id``: the Open311 feed's own random id, so the public feed no longer lists the
case numbers that (with a phone) open a resident's status page.
``cases.text_original``: the complaint as written; ``cases.text`` holds it with the
complainant's identity masked. Complaints already stored are masked here the same way (their
words as written move to ``text_original``), so old cases expose no more than new ones.
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
    _mask_stored_texts(conn)
    op.create_table(
        "throttle",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_throttle"),
    )


def _mask_stored_texts(conn, batch: int = 1000) -> None:
    """Mask the complainant's identity in every stored complaint (``classifiers.redact``)."""
    from classifiers.redact import redact

    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("text_original", sa.Text),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.text)
            .where(cases.c.id > last, cases.c.text_original.is_(None))
            .order_by(cases.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for case_id, text in rows:
            masked = redact(text or "")
            if masked.found:
                conn.execute(
                    cases.update()
                    .where(cases.c.id == case_id)
                    .values(text=masked.text, text_original=text)
                )
        last = rows[-1][0]


def downgrade() -> None:
    # The words as written go back into cases.text before their column is dropped.
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE cases SET text = text_original WHERE text_original IS NOT NULL"))
    op.drop_table("throttle")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_public_id")
        batch_op.drop_column("text_original")
        batch_op.drop_column("public_id")
