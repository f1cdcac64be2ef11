"""mirror: payment intents are no longer mirrored; drop what earlier versions stored of them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Delete mirrored payment intents and the progress of their stream.

    No metric read them; left behind they would go stale, since nothing updates them any more.
    """
    op.execute("DELETE FROM mirror_objects WHERE object_type = 'payment_intent'")
    op.execute("DELETE FROM sync_ranges WHERE stream = 'payment_intents'")
    op.execute("DELETE FROM sync_streams WHERE stream = 'payment_intents'")


def downgrade() -> None:
    """Nothing is restored: after a downgrade, `revlens sync ACCOUNT --full` reads them again."""
