"""Guest-network steps: ``set_link`` (QMP set_link on a guest's link or network NIC) and
``net_move`` (an address moves from one guest of the network to another, announced with gratuitous
ARP so that the others' neighbour entries follow at once)."""

from __future__ import annotations

import ipaddress

from ..machine import LINK_NIC, NET_NIC, Machine
from ..scenario import Step
from .base import B, Context, S, StepCheck, StepFailure, kind, timeout_of

NICS = {"link": LINK_NIC, "net": NET_NIC}
NET_DEV = "net0"  # the network NIC's name in the guest (images/rootfs/etc/init.d/rcS)


def _validate_set_link(c: StepCheck) -> None:
    nic = c.choice("set_link", "net", tuple(NICS))
    if nic == "net" and c.args["guest"] not in c.network:
        raise c.fail("guest", "not on the scenario's `network:`")
    if nic == "link" and (c.link is None or c.args["guest"] not in c.link):
        raise c.fail("guest", "not on the scenario's `link:`")


@kind("set_link", {"set_link": (S, True), "up": (B, True)}, validate=_validate_set_link)
def _set_link(ctx: Context, step: Step) -> None:
    ctx.guest(step).qmp("set_link", name=NICS[step.args["set_link"]], up=bool(step.args["up"]))


def _validate_net_move(c: StepCheck) -> None:
    try:
        ipaddress.IPv4Address(str(c.args["net_move"]))
    except ValueError as exc:
        raise c.fail("net_move", "an IPv4 address") from exc
    for end in ("from", "to"):
        if c.args.get(end) is not None and c.args[end] not in c.network:
            raise c.fail(end, "not on the scenario's `network:`")
    if c.args.get("from") is None and c.args.get("to") is None:
        raise c.fail("net_move", "needs `from:`, `to:` or both")


def add_address(m: Machine, addr: str, *, announce: bool = True, hidden: bool = False, timeout: float = 20) -> None:
    """Add ``addr`` on ``m``'s network NIC. ``announce``: gratuitous ARP (request and reply), so the
    other guests' neighbour entries point at ``m`` now. ``hidden``: ``m`` answers no ARP on the NIC
    (``arp_ignore=8``) until :func:`announce_address`: the others keep sending to the old owner."""
    ignore = f"sysctl -qw net.ipv4.conf.{NET_DEV}.arp_ignore=8 && " if hidden else ""
    m.ssh.run(f"{ignore}ip addr add {addr}/24 dev {NET_DEV}", timeout, check=True)
    if announce:
        announce_address(m, addr, timeout)


def announce_address(m: Machine, addr: str, timeout: float = 20) -> None:
    m.ssh.run(f"sysctl -qw net.ipv4.conf.{NET_DEV}.arp_ignore=0 && "
              f"arping -q -U -c 1 -I {NET_DEV} {addr}; arping -q -A -c 1 -I {NET_DEV} {addr}; true",
              timeout, check=True)


def del_address(m: Machine, addr: str, timeout: float = 20) -> None:
    m.ssh.run(f"ip addr del {addr}/24 dev {NET_DEV} && sysctl -qw net.ipv4.conf.{NET_DEV}.arp_ignore=0",
              timeout, check=True)


@kind("net_move", {"net_move": (S, True), "from": (S, False), "to": (S, False)}, validate=_validate_net_move,
      needs_guest=False)
def _net_move(ctx: Context, step: Step) -> None:
    addr = ctx.text(step, "net_move")
    try:
        if step.get("from"):
            del_address(ctx.machines[step.args["from"]], addr, timeout_of(step, 20))
        if step.get("to"):
            add_address(ctx.machines[step.args["to"]], addr, timeout=timeout_of(step, 20))
    except Exception as exc:  # noqa: BLE001 - an SSH check failure names the command
        raise StepFailure(step, f"moving {addr}: {exc}") from exc
