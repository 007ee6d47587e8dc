"""Every area's models, imported so Alembic and the shell see the whole schema. Defines nothing."""

from .adjustments.models import *  # noqa: F403
from .alerts.models import *  # noqa: F403
from .api.models import *  # noqa: F403
from .attachments.models import *  # noqa: F403
from .audit import AuditEntry  # noqa: F401
from .auth.models import *  # noqa: F403
from .db import Base  # noqa: F401
from .evaluations.models import *  # noqa: F403
from .imports.models import *  # noqa: F403
from .indicators.models import *  # noqa: F403
from .notifications.models import *  # noqa: F403
from .planning.models import *  # noqa: F403
from .projects.models import *  # noqa: F403
from .regions.models import *  # noqa: F403
from .search.models import *  # noqa: F403
from .succession.models import *  # noqa: F403
from .supervision.models import *  # noqa: F403
from .system.models import *  # noqa: F403
from .tasks.models import *  # noqa: F403
from .webhooks.models import *  # noqa: F403
