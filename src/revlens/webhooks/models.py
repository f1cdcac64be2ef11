"""The webhook endpoints `revlens webhooks setup` registered, with their signing secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from revlens.db.base import Base
from revlens.db.types import UTCDateTime


class WebhookEndpoint(Base):
    """An endpoint in the platform's Stripe account that delivers to revlens."""

    __tablename__ = "webhook_endpoints"

    stripe_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    connect: Mapped[bool] = mapped_column(Boolean)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
