"""Shell steps: ``run`` a command (in the foreground, retried, or in the background),
``expect_failure`` of one (with an errno name), ``sleep``."""

from __future__ import annotations

import shlex
import time

from ..scenario import Step
from ..ssh import Result, SSHError
from .base import B, Context, N, S, StepCheck, StepFailure, check_output, kind, timeout_of

ERRNO_NAMES = ("EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES",
               "EFAULT", "EBUSY", "EEXIST", "EINVAL", "ENOSPC", "ENOSYS", "EOPNOTSUPP", "ENOTSUP",
               "EBADMSG", "E2BIG", "ENOEXEC", "ECHILD", "ESPIPE", "ERANGE", "EOVERFLOW", "ENODEV")
ERRNO_TEXT = {
    "EPERM": "Operation not permitted", "ENOENT": "No such file or directory",
    "ESRCH": "No such process", "EINTR": "Interrupted system call", "EIO": "I/O error",
    "EBADF": "Bad file descriptor", "EAGAIN": "Resource temporarily unavailable",
    "ENOMEM": "Out of memory", "EACCES": "Permission denied", "EFAULT": "Bad address",
    "EBUSY": "Resource busy", "EEXIST": "File exists", "EINVAL": "Invalid argument",
    "ENOSPC": "No space left on device", "ENOSYS": "Function not implemented",
    "EOPNOTSUPP": "Not supported", "ENOTSUP": "Not supported", "EBADMSG": "Bad message",
    "E2BIG": "Argument list too long", "ENOEXEC": "Exec format error", "ECHILD": "No child process",
    "ESPIPE": "Illegal seek", "ERANGE": "Result not representable", "EOVERFLOW": "Value too large",
    "EADDRINUSE": "Address already in use", "EADDRNOTAVAIL": "Cannot assign requested address",
    "ENODEV": "No such device",
}


def _validate_run(c: StepCheck) -> None:
    if "expect_exit" in c.args:
        ee = c.args["expect_exit"]
        if not (isinstance(ee, int) or ee in ("nonzero", "any")):
            raise c.fail("expect_exit", "an exit status, 'nonzero' or 'any'")
    if c.args.get("background") and "save" not in c.args:
        raise c.fail("save", "a background run must save its pid in a variable")


@kind("run", {
    "run": (S, True), "expect_exit": ((int, str), False), "stdout_contains": (S, False),
    "stderr_contains": (S, False), "output_contains": (S, False), "user": (S, False),
    "background": (B, False), "save": (S, False), "disconnect_ok": (B, False),
    "retry_for": (N, False),  # rerun until it passes, for up to this many seconds
}, validate=_validate_run)
def _run(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    cmd = ctx.text(step, "run")
    if step.get("background"):
        log = f"/tmp/lab-{step.args['save']}.log"
        wrapped = f"setsid sh -c {shlex.quote(cmd)} </dev/null >{log} 2>&1 & echo $!"
        res = m.ssh.run(wrapped, timeout_of(step, 30), user=step.get("user"))
        pid = res.stdout.strip()
        if not res.ok or not pid.isdigit():
            raise StepFailure(step, "could not start in the background", res)
        ctx.variables[step.args["save"]] = pid
        return
    deadline = time.monotonic() + float(step.get("retry_for", 0))
    while True:
        try:
            res = m.ssh.run(cmd, timeout_of(step), user=step.get("user"))
        except SSHError as exc:
            if step.get("disconnect_ok"):
                return
            raise StepFailure(step, str(exc)) from exc
        if res.status == -1 and step.get("disconnect_ok"):
            return  # the guest went away before the command could report its status
        try:
            _check_run(step, res)
            break
        except StepFailure:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
    if "save" in step.args:
        ctx.variables[step.args["save"]] = res.stdout.strip()


def _check_run(step: Step, res: Result) -> None:
    expect = step.get("expect_exit", 0)
    if expect == "nonzero" and res.ok or isinstance(expect, int) and res.status != expect:
        raise StepFailure(step, f"exit status {res.status}, expected {expect}", res)
    check_output(step, res)


@kind("expect_failure", {
    "expect_failure": (S, True), "output_contains": (S, False), "errno": (S, False), "user": (S, False),
})
def _expect_failure(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    res = m.ssh.run(ctx.text(step, "expect_failure"), timeout_of(step), user=step.get("user"))
    if res.ok:
        raise StepFailure(step, "succeeded but was expected to fail", res)
    check_output(step, res)
    errno = step.get("errno")
    if errno:
        out = res.stdout + res.stderr
        text = ERRNO_TEXT.get(errno, "")
        if errno not in out and not (text and text.lower() in out.lower()):
            raise StepFailure(step, f"failed, but not with {errno}", res)


@kind("sleep", {"sleep": (N, True)}, needs_guest=False)
def _sleep(ctx: Context, step: Step) -> None:
    time.sleep(float(step.args["sleep"]))
