"""Step kinds, one module per family, each registering its kinds, their YAML schema and handlers.

``base`` (registry, context, failure, schema helpers), ``shell`` (run, expect_failure, sleep),
``process`` (freeze, thaw, signal), ``files`` (wait, transfer, verify), ``console``, ``image``
(ckptinfo, tamper), ``cr`` (checkpoint, restart: by the scenario's engine, with restore
verification), ``migrate``, ``network`` (set_link, net_move). Adding a kind is a function with
``@kind(...)`` in one of them (or in a new module imported below) and its tests.
"""

from . import console, cr, files, image, migrate, network, process, shell, survey  # noqa: F401  (they register their kinds)
from .base import KINDS, Context, StepFailure

__all__ = ["KINDS", "Context", "StepFailure"]
