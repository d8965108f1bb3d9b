"""Step kinds, one module per family; each registers its handlers with ``lab.runner.handler``.

(The older kinds still live in ``lab.runner`` and ``lab.migrate``; they move here one family at a time.)
"""
