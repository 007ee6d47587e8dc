"""The models configure whichever area's model is used first.

Relationships name other areas' classes by string (``order_by="Attachment.id"``); tracker.db imports every area's
models before the mappers configure. Run in a fresh interpreter: inside the suite, other tests have long imported
everything, which is how tests/projects/test_amounts.py used to pass in the suite and fail alone.
"""

from __future__ import annotations

import subprocess
import sys

from tracker.config import PROJECT_ROOT

SCRIPT = """
import sys
from decimal import Decimal
from tracker.projects.models import KeyProject
assert "tracker.adjustments.models" not in sys.modules
KeyProject(total_investment=Decimal(1), total_tbd=False)  # configures the mappers
assert "tracker.adjustments.models" in sys.modules and "tracker.attachments.models" in sys.modules
print("ok")
"""


def test_a_model_used_before_the_others_are_imported_configures() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
