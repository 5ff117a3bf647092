"""SWE-bench instances as a suite: records, repositories, images, specs and grading by swebench's code."""

import logging

# Importing swebench configures the root logger at INFO (basicConfig in its collect modules),
# which would print every HTTP request of a run; keep the root logger as it was.
_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level
import swebench  # noqa: E402,F401

_root.handlers[:], _root.level = _handlers, _level
