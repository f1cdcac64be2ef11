"""Every table of revlens, imported so that the metadata is complete for Alembic and tests."""

from revlens.accounts import models as _accounts_models  # noqa: F401
from revlens.billing import models as _billing_models  # noqa: F401
from revlens.db.base import Base
from revlens.metrics import models as _metrics_models  # noqa: F401
from revlens.mirror import models as _mirror_models  # noqa: F401
from revlens.system import models as _system_models  # noqa: F401
from revlens.webhooks import models as _webhooks_models  # noqa: F401

metadata = Base.metadata
