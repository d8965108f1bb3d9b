"""Restore verification: parsing procsnap output, the legitimate-change rules, known gaps, the diff."""

from pathlib import Path

import pytest

from lab import verify

DATA = Path(__file__).parent / "data" / "verify"


def snap(**fields: str) -> verify.Snapshot:
    base = {"status.Pid": "10", "stat.pgrp": "10", "stat.session": "10", "status.Umask": "0022"}
    base.update({k.replace("__", "."): v for k, v in fields.items()})
    return base


def test_parse_reads_key_tab_value_lines() -> None:
    s = verify.parse("status.Pid\t7\nproc.cwd\t/tmp\nstatus.Groups\t\nmap.1-2.vmflags\trd wr \n")
    assert s == {"status.Pid": "7", "proc.cwd": "/tmp", "status.Groups": "", "map.1-2.vmflags": "rd wr"}


@pytest.mark.parametrize("text", ["status.Pid 7\n", "proc.cwd\t/\n", ""])
def test_parse_refuses_what_is_not_a_snapshot(text: str) -> None:
    with pytest.raises(ValueError):
        verify.parse(text)


def test_pid_numbers_may_change_but_relations_may_not() -> None:
    before, after = snap(), snap(status__Pid="20", stat__pgrp="20", stat__session="20")
    assert verify.diff(before, after) == []
    not_leader = snap(status__Pid="20", stat__pgrp="20", stat__session="3")
    assert [d.key for d in verify.diff(before, not_leader)] == ["stat.session"]


def test_a_changed_field_is_reported_with_both_values() -> None:
    diffs = verify.diff(snap(), snap(status__Umask="0077", proc__extra="x"))
    assert [str(d) for d in diffs] == ["proc.extra: (absent) -> 'x'", "status.Umask: '0022' -> '0077'"]


def test_every_rule_has_a_reason_and_gaps_name_their_issue() -> None:
    for rule in verify.LEGITIMATE + verify.KNOWN_GAPS:
        assert len(rule.reason) > 20, rule
    assert all(r.issue > 0 for r in verify.KNOWN_GAPS)


def test_known_gap_with_a_condition_only_covers_that_difference() -> None:
    key = "map.400000-401000.vmflags"
    gaps = (verify.Rule(r"map\..*\.vmflags", "a flag the kernel would lose (for this test only)", issue=10,
                        when=verify.only_flags_differ("ac", "sd")),)
    lost_ac = verify.compare(snap(**{key.replace(".", "__"): "rd mr ac"}), snap(**{key.replace(".", "__"): "rd mr"}),
                             gaps=gaps)
    assert lost_ac.ok and lost_ac.gap_summary() == f"{key}(#10)"
    lost_wr = verify.compare(snap(**{key.replace(".", "__"): "rd wr"}), snap(**{key.replace(".", "__"): "rd"}),
                             gaps=gaps)
    assert not lost_wr.ok


def test_only_a_timer_signal_that_fired_while_held_may_be_added_to_the_pending_set() -> None:
    fired = verify.compare(snap(status__ShdPnd="0000000000000800"), snap(status__ShdPnd="0000000000002800"))
    assert fired.ok and [d.key for d, _ in fired.legitimate] == ["status.ShdPnd"]
    for before, after in (("0000000000000800", "0000000000000000"),    # a pending signal lost
                          ("0000000000000800", "0000000000000c00"),    # another signal than a timer's
                          ("0000000000002000", "0000000000000000")):   # the timer's own one lost
        assert not verify.compare(snap(status__ShdPnd=before), snap(status__ShdPnd=after)).ok


def test_recorded_migration_of_a_kernel_that_lost_the_cwd_fails_on_it_alone() -> None:
    """Snapshots recorded by a real migrate-link run (source frozen on A, restored task held on B) on
    the kernel of 2026-12-01, which did not restore the working directory, auxv nor VM_ACCOUNT yet:
    the lab names those three fields and nothing else (the rest is legitimate)."""
    before = verify.parse((DATA / "migrate-link-before.snap").read_text())
    after = verify.parse((DATA / "migrate-link-after.snap").read_text())
    verdict = verify.compare(before, after)
    assert sorted(str(d) for d in verdict.unexpected if d.key != "proc.auxv") == [
        "map.4a2000-4a6000.vmflags: 'rd mr mw me ac' -> 'rd mr mw me'",
        "proc.cwd: '/tmp' -> '/root'"]
    assert {d.key for d in verdict.unexpected} == {"proc.auxv", "proc.cwd", "map.4a2000-4a6000.vmflags"}
    assert not verdict.known
    assert {d.key for d, _ in verdict.legitimate} >= {"status.Pid", "status.State", "status.TracerPid"}
    # memory contents, fds and their offsets, limits, signal state, creds: equal
    for key in before:
        if key.endswith(".ino"):
            continue  # the carried files are new files on B
        if key.endswith(".sum") or key.startswith(("fd", "limits.", "status.Sig", "status.Cap", "status.Uid")):
            assert before[key] == after[key], key


def test_an_item_procsnap_could_not_read_fails_the_verification() -> None:
    denied = snap(proc__environ="<error: Permission denied>")
    verdict = verify.compare(denied, denied)
    assert not verdict.ok and verdict.unexpected == []
    assert "cannot read before proc.environ: Permission denied" in verdict.problems()
    # a file this kernel does not have is no read failure (both sides must agree, as any field)
    absent = snap(proc__timers="<error: No such file or directory>")
    assert verify.compare(absent, absent).ok
    assert not verify.compare(absent, snap(proc__timers="")).ok


def test_memory_that_cannot_be_read_fails_unless_it_is_io_memory() -> None:
    vvar = snap(**{"map__1-2__vmflags": "rd mr pf io de dd", "map__1-2__sum": "unreadable at +0: Input/output error"})
    assert verify.compare(vvar, vvar).ok
    anon = snap(**{"map__1-2__vmflags": "rd wr mr mw me ac", "map__1-2__sum": "unreadable at +0x1000: Bad address"})
    assert verify.compare(anon, anon).unreadable == ["before map.1-2.sum: unreadable at +0x1000: Bad address",
                                                      "after map.1-2.sum: unreadable at +0x1000: Bad address"]


def test_vmflags_of_a_range_whose_parts_differ() -> None:
    assert verify.vmflags_parts("rd mr") == [(None, frozenset({"rd", "mr"}))]
    assert verify.vmflags_parts("3000:rd mr|1000:rd mr ac") == [(0x3000, frozenset({"rd", "mr"})),
                                                                (0x1000, frozenset({"rd", "mr", "ac"}))]
    assert verify.vmflags_parts("3000:rd mr|1000:rd mr ac", frozenset({"ac"})) == [(None, frozenset({"rd", "mr"}))]


def test_lost_vm_account_is_no_longer_a_known_gap() -> None:
    """As in a shared library restored by the old kernel: its RELRO part lost "ac" (restart keeps it now)."""
    k = "map__7f00-7f04__vmflags"
    verdict = verify.compare(snap(**{k: "3000:rd mr mw me|1000:rd mr mw me ac"}), snap(**{k: "rd mr mw me"}))
    assert not verdict.ok and not verdict.known
    assert [d.key for d in verdict.unexpected] == ["map.7f00-7f04.vmflags"]


def test_dump_writes_what_parse_reads() -> None:
    before = verify.parse((DATA / "migrate-link-before.snap").read_text())
    assert verify.parse(verify.dump(before)) == before


def task(pid: str, ppid: str, pgrp: str, sid: str, **fields: str) -> verify.Snapshot:
    s = {"status.Pid": pid, "status.PPid": ppid, "stat.ppid": ppid, "stat.pgrp": pgrp, "stat.session": sid,
         "status.Umask": "0022", "stat.nice": "0", "stat.starttime": pid}
    s.update({k.replace("__", "."): v for k, v in fields.items()})
    return s


def shell_tree(base: int, *, child_pgrp: str = "", extra: bool = False) -> verify.Snapshot:
    """A session leader (pid base) with two children; the second its own process group."""
    r, c1, c2 = str(base), str(base + 1), str(base + 5)
    snaps = {r: task(r, "1", r, r), c1: task(c1, r, r, r), c2: task(c2, r, child_pgrp or c2, r)}
    if extra:
        snaps[str(base + 9)] = task(str(base + 9), c1, r, r)
    return verify.tree(snaps, r)


def test_a_tree_is_compared_by_positions_and_relations_not_pid_numbers() -> None:
    before = shell_tree(100)
    assert before["tree.tasks"] == "3"
    assert before["tree.0.1/stat.pgrp"] == "tree.0.1" and before["tree.0.0/stat.ppid"] == "tree.0"
    assert before["tree.0/stat.ppid"] == "outside"
    assert verify.compare(before, shell_tree(300)).ok  # every pid renumbered, same relations


def test_a_tree_whose_relations_changed_fails_on_them() -> None:
    before = shell_tree(100)
    # the second child lost its own process group: no rule excuses a relation within a tree
    regrouped = verify.compare(before, shell_tree(300, child_pgrp="300"))
    assert [d.key for d in regrouped.unexpected] == ["tree.0.1/stat.pgrp"]
    # an extra task is a difference in the task count, the children of its parent and its own fields
    grown = verify.compare(before, shell_tree(100, extra=True))
    assert {"tree.tasks", "tree.0.0/children", "tree.0.0.0/status.Umask"} <= {d.key for d in grown.unexpected}


def pidns_tree(base: int, inner: tuple[str, str]) -> verify.Snapshot:
    """A pid namespace's init (pid base, 1 in its namespace) and a child (``inner``: its pids in it)."""
    r, c = str(base), str(base + 3)
    return verify.tree({r: task(r, "1", r, r, status__NSpid=f"{r} 1"),
                        c: task(c, r, r, r, status__NSpid=f"{c} {inner[0]}", status__NSpgid=f"{r} {inner[1]}")}, r)


def test_the_pids_inside_a_pid_namespace_are_compared_as_numbers() -> None:
    before = pidns_tree(100, ("2", "1"))
    assert before["tree.0/status.NSpid"] == "tree.0 1" and before["tree.0.0/status.NSpid"] == "tree.0.0 2"
    assert verify.compare(before, pidns_tree(300, ("2", "1"))).ok  # a new namespace, the same pids in it
    # a restore that gave the child another pid in the namespace (or group) is caught
    verdict = verify.compare(before, pidns_tree(300, ("3", "3")))
    assert sorted(d.key for d in verdict.unexpected) == ["tree.0.0/status.NSpgid", "tree.0.0/status.NSpid"]


def test_rules_apply_to_each_task_of_a_tree() -> None:
    before = shell_tree(100)
    after = dict(shell_tree(300))
    after["tree.0.1/stat.nice"] = "5"
    verdict = verify.compare(before, after)
    assert [d.key for d in verdict.unexpected] == ["tree.0.1/stat.nice"]
    assert any(d.key == "tree.0.1/stat.starttime" for d, _ in verdict.legitimate)


def test_a_tree_snapshot_is_parsed_back_and_a_lone_task_is_its_own_snapshot() -> None:
    t = shell_tree(100)
    assert verify.parse(verify.dump(t)) == t
    lone = task("7", "1", "7", "7")
    assert verify.tree({"7": lone}, "7") == lone
    with pytest.raises(ValueError, match="not descendants of 7"):
        verify.tree({"7": lone, "9": task("9", "2", "9", "9")}, "7")


def test_cpu_decided_speculation_state_may_change_a_task_choice_may_not() -> None:
    from lab.verify import LEGITIMATE

    def legit(key: str, before: str, after: str) -> bool:
        return any(r.matches(key, before, after) for r in LEGITIMATE)

    assert legit("status.Speculation_Store_Bypass", "vulnerable", "not vulnerable")
    assert not legit("status.Speculation_Store_Bypass", "thread mitigated", "vulnerable")
    assert legit("status.SpeculationIndirectBranch", "unsupported", "always enabled")
    assert not legit("status.SpeculationIndirectBranch", "conditional force disabled", "always enabled")


def test_a_restored_socket_may_have_another_inode_but_not_become_a_file() -> None:
    before = {"status.Pid": "1", "fd.3": "socket:[1234]"}
    same = verify.compare(before, {"status.Pid": "2", "fd.3": "socket:[99]"})
    assert not same.unexpected and sorted(d.key for d, _ in same.legitimate) == ["fd.3", "status.Pid"]
    lost = verify.compare(before, {"status.Pid": "2", "fd.3": "/dev/null"})
    assert [d.key for d in lost.unexpected] == ["fd.3"]
    other_kind = verify.compare(before, {"status.Pid": "2", "fd.3": "pipe:[99]"})
    assert [d.key for d in other_kind.unexpected] == ["fd.3"]


def threaded(pid: int, tid_offsets: tuple[int, ...], **fields: str) -> verify.Snapshot:
    """A process whose threads but the leader have the keys procsnap gives them (``thread.N/...``)."""
    s = snap(status__Pid=str(pid), stat__pgrp=str(pid), stat__session=str(pid))
    for n, off in enumerate(tid_offsets, 1):
        s.update({f"thread.{n}/tid": f"{off:+d}", f"thread.{n}/status.State": "S (sleeping)",
                  f"thread.{n}/status.SigBlk": "0000000000000000", f"thread.{n}/stat.nice": "0"})
    s.update({k.replace("_SL_", "/").replace("__", ".").replace("thread_", "thread."): v for k, v in fields.items()})
    return s


def test_each_thread_is_held_to_its_own_state_and_its_tid() -> None:
    before = threaded(100, (1, 2))
    held = threaded(100, (1, 2), thread_1_SL_status__State="t (tracing stop)")
    verdict = verify.compare(before, held)
    assert verdict.ok and [d.key for d, _ in verdict.legitimate] == ["thread.1/status.State"]
    # a thread that lost its signal mask, and one that came back with another tid (glibc keeps the
    # tid in its thread descriptor: pthread_kill, mutex owners), each fails on exactly that
    lost = verify.compare(before, threaded(100, (1, 2), thread_2_SL_status__SigBlk="0000000000004000"))
    assert [d.key for d in lost.unexpected] == ["thread.2/status.SigBlk"]
    renumbered = verify.compare(before, threaded(300, (7, 8)))
    assert [d.key for d in renumbered.unexpected] == ["thread.1/tid", "thread.2/tid"]
    # a lost thread
    assert {d.key for d in verify.compare(before, threaded(100, (1,))).unexpected} == {
        "thread.2/tid", "thread.2/status.State", "thread.2/status.SigBlk", "thread.2/stat.nice"}

def test_a_posix_timer_signals_the_task_itself_whatever_its_pid_but_not_another() -> None:
    timers = "ID: 0\\x0asignal: 37/0000000000000309\\x0anotify: signal/{}.{}\\x0aClockID: 0"
    before = snap(proc__timers=timers.format("tid", 10) + timers.format("pid", 10))
    after = snap(status__Pid="20", stat__pgrp="20", stat__session="20",
                 proc__timers=timers.format("tid", 20) + timers.format("pid", 20))
    assert verify.diff(before, after) == []
    other = snap(status__Pid="20", stat__pgrp="20", stat__session="20",
                 proc__timers=timers.format("tid", 20) + timers.format("pid", 10))
    assert [d.key for d in verify.diff(before, other)] == ["proc.timers"]


def test_a_restored_pty_keeps_its_number() -> None:
    before = snap(fd__4="/dev/pts/0", **{"fdinfo__3__tty-index": "0"})
    assert verify.diff(before, snap(fd__4="/dev/pts/0", **{"fdinfo__3__tty-index": "0"})) == []
    after = snap(fd__4="/dev/pts/1", **{"fdinfo__3__tty-index": "1"})
    assert sorted(d.key for d in verify.diff(before, after)) == ["fd.4", "fdinfo.3.tty-index"]
    assert not verify.compare(before, after).ok


def test_a_changed_mask_is_lost_state_whatever_call_the_task_is_in() -> None:
    # frozen in rt_sigsuspend (130): /proc shows the call's mask, and restart restores it so (the
    # task's own one saved): a restored task showing its own mask lost the call's
    before = snap(syscall="130", status__SigBlk="fffffffffffbfeff", stat__blocked="4294704895")
    same = verify.compare(before, {**before, "syscall": "130"})
    assert same.ok, same.problems()
    for call in ("-1", "130", "0", "running"):
        lost = verify.compare(before, snap(syscall=call, status__SigBlk="0000000000000000", stat__blocked="0"))
        assert {d.key for d in lost.unexpected} == {"status.SigBlk", "stat.blocked"}, call
    threads = verify.compare(snap(**{"thread.1/syscall": "270", "thread.1/status.SigBlk": "0000000000000002"}),
                             snap(**{"thread.1/syscall": "-1", "thread.1/status.SigBlk": "0000000000000000"}))
    assert [d.key for d in threads.unexpected] == ["thread.1/status.SigBlk"]


def test_a_rule_given_other_fields_judges_by_the_same_task_s_fields() -> None:
    rule = verify.Rule(r"status\.SigBlk", "test", given=lambda f: f("syscall") == ("7", "7"))
    before = {"tree.0/syscall": "7", "tree.0.0/syscall": "0"}
    assert rule.matches("tree.0/status.SigBlk", "1", "2", (before, before))
    assert not rule.matches("tree.0.0/status.SigBlk", "1", "2", (before, before))
    assert not rule.matches("tree.0/status.SigBlk", "1", "2")  # without the snapshots it cannot judge


def ns_tree(root_uts: str, child_uts: str, base: int = 100) -> verify.Snapshot:
    r, c = str(base), str(base + 1)
    return verify.tree({r: task(r, "1", r, r, ns__uts=root_uts, ns__net="snapshotter's"),
                        c: task(c, r, r, r, ns__uts=child_uts, ns__net="snapshotter's")}, r)


def test_namespaces_are_compared_by_which_tasks_share_them_not_inode_numbers() -> None:
    before = ns_tree("uts:[4026532110]", "uts:[4026532110]")
    assert before["tree.0/ns.uts"] == before["tree.0.0/ns.uts"] == "own.0"
    assert before["tree.0/ns.net"] == "snapshotter's"
    assert verify.compare(before, ns_tree("uts:[4026532999]", "uts:[4026532999]", 300)).ok  # a new one, shared
    split = verify.compare(before, ns_tree("uts:[4026532999]", "uts:[4026532998]", 300))
    assert [d.key for d in split.unexpected] == ["tree.0.0/ns.uts"]  # the child in another one
    lost = verify.compare(before, ns_tree("snapshotter's", "snapshotter's", 300))
    assert sorted(d.key for d in lost.unexpected) == ["tree.0.0/ns.uts", "tree.0/ns.uts"]  # restored into ours
    lone = verify.tree({"7": task("7", "1", "7", "7", ns__uts="uts:[5]")}, "7")
    assert lone["ns.uts"] == "own.0"
