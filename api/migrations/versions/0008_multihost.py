"""multihost: the state every host must share, in the database (issue 15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:00:00.000000

``cases.model_version`` / ``cases.cluster_reason``: which registered model classified the case,
and why the clusterer put it in its event (for staff, and to audit a model afterwards).
``service_secrets``: the token signing key on PostgreSQL, set once for the deployment.
``cluster_state``: the clusterer's saved state (one row), so whichever host runs the clusterer
continues from the same place; ``generation`` fences off a former holder's late writes.
``event_ids`` (PostgreSQL only): event numbers from a sequence, never handed out twice.
``model_versions``, ``model_activations``: the model registry on PostgreSQL (metadata, the
model file itself, the promotion history; the active model is the latest activation).
``job_schedule``: the day a once-a-day job (日盘点) last ran.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cluster_reason", sa.String(length=300), nullable=True))
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "cluster_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("last_case_id", sa.Integer(), nullable=False),
        sa.Column("last_decision_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.String(length=20), nullable=False, unique=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=True),  # NULL once pruned
        sa.Column("files", sa.JSON(), nullable=True),  # small report files, name -> base64
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "model_activations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
    )
    op.create_table(
        "job_schedule",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("last_run_on", sa.Date(), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS event_ids")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS event_ids")
    op.drop_table("job_schedule")
    op.drop_table("model_activations")
    op.drop_table("model_versions")
    op.drop_table("cluster_state")
    op.drop_table("service_secrets")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("cluster_reason")
        batch_op.drop_column("model_version")
