"""A QEMU test lab for in-kernel checkpoint/restart on Linux 6.1."""

__version__ = "0.1.0"
