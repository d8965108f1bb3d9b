"""Collect every YAML scenario under this directory as a pytest item (see lab.pytest_plugin)."""

from lab.pytest_plugin import (  # noqa: F401 - pytest finds hooks by name in this module
    pytest_addoption,
    pytest_collect_file,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_ignore_collect,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_unconfigure,
)
