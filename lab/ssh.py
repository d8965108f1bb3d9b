"""SSH to a guest with paramiko: commands with timeouts, and file transfers over exec channels.

Dropbear in the guest has no sftp server, so transfers stream through ``cat`` on an exec channel.
Keys are generated per run: the client key with ``cryptography``, the guest's host key with
``dropbearkey``; the host key is pinned, never accepted blindly.
"""

from __future__ import annotations

import base64
import json
import logging
import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import command

OUTPUT_TAIL = 2000
# paramiko logs every failed connection attempt with a traceback; our errors carry the cause.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Result:
    command: str
    status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def _tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


class SSHError(Exception):
    """A command on the guest failed or could not run; carries the command and its output tail."""

    def __init__(self, message: str, cmd: str = "", stdout: str = "", stderr: str = "",
                 status: int | None = None) -> None:
        self.cmd = cmd
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
        parts = [message]
        if cmd:
            parts.append(f"command: {cmd}")
        if stdout.strip():
            parts.append(f"stdout:\n{_tail(stdout)}")
        if stderr.strip():
            parts.append(f"stderr:\n{_tail(stderr)}")
        super().__init__("\n".join(parts))


class SSHTimeout(SSHError):
    """A command did not finish (or the guest did not answer) in time."""


@dataclass(frozen=True)
class KeyPair:
    """A client key (OpenSSH private key file) and a guest host key (dropbear format)."""

    client_key: Path
    authorized_keys: Path
    host_key: Path
    host_public: str  # "ssh-ed25519 AAAA..."

    @classmethod
    def generate(cls, directory: Path) -> KeyPair:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        priv = Ed25519PrivateKey.generate()
        client = directory / "id_ed25519"
        client.write_bytes(priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption()))
        client.chmod(0o600)
        pub = priv.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH)
        auth = directory / "authorized_keys"
        auth.write_bytes(pub + b" lab\n")
        auth.chmod(0o600)
        host = directory / "host_key"
        command.run(["dropbearkey", "-t", "ed25519", "-f", host])
        host.chmod(0o600)
        out = command.run(["dropbearkey", "-y", "-f", host]).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("ssh-ed25519 "))
        return cls(client, auth, host, " ".join(line.split()[:2]))


class GuestSSH:
    """One lazily opened SSH connection to a guest; ``close`` is idempotent."""

    def save(self, path: Path) -> None:
        """Write how to reach this guest (address, port, client key, pinned host key) to ``path``,
        so another ``lab`` process can run commands in it while it is up (see :meth:`load`)."""
        path.write_text(json.dumps({
            "host": self.host, "port": self.port, "user": self.user,
            "client_key": str(self.keys.client_key), "host_public": self.keys.host_public,
        }, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> GuestSSH:
        """A connection to the guest that :meth:`save` described; ``ValueError`` names what is wrong."""
        try:
            d = json.loads(path.read_text())
            key = Path(d["client_key"])
            keys = KeyPair(key, key.with_name("authorized_keys"), key.with_name("host_key"),
                           str(d["host_public"]))
            return cls(str(d["host"]), int(d["port"]), keys, user=str(d["user"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a guest connection file ({exc!r})") from exc

    def __init__(self, host: str, port: int, keys: KeyPair, user: str = "root",
                 connect_timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.keys = keys
        self.user = user
        self.connect_timeout = connect_timeout
        # called with each command's result and its duration (the runner keeps every step's output)
        self.observers: list[Callable[[Result, float], None]] = []
        self._client: paramiko.SSHClient | None = None

    def _connect(self) -> paramiko.SSHClient:
        if self._client is not None:
            transport = self._client.get_transport()
            if transport is not None and transport.is_active():
                return self._client
            self.close()
        client = paramiko.SSHClient()
        kind, data = self.keys.host_public.split()
        client.get_host_keys().add(f"[{self.host}]:{self.port}", kind,
                                   paramiko.Ed25519Key(data=base64.b64decode(data)))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            # Nagle's algorithm on our side and delayed ACKs in the guest stall every round trip of
            # the handshake and of each command: 0.14 s -> 0.05 s per connect under TCG
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.connect(
                self.host, self.port, username=self.user, sock=sock,
                pkey=paramiko.Ed25519Key.from_private_key_file(str(self.keys.client_key)),
                timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout, allow_agent=False, look_for_keys=False,
            )
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            raise SSHError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._client = client
        return client

    def wait_ready(self, timeout: float, alive: object = None) -> float:
        """Retry until a command runs; return seconds waited. ``alive()`` false aborts early."""
        start = time.monotonic()
        last: Exception | None = None
        while time.monotonic() - start < timeout:
            if callable(alive) and not alive():
                raise SSHError(f"guest died before SSH was ready ({last})")
            try:
                self.run("true", timeout=max(2.0, timeout - (time.monotonic() - start)), check=True)
                return time.monotonic() - start
            except (OSError, SSHError) as exc:
                last = exc
                self.close()
                time.sleep(0.05)
        raise SSHTimeout(f"SSH on {self.host}:{self.port} not ready after {timeout:.0f} s: {last}")

    def run(self, cmd: str, timeout: float = 60.0, *, check: bool = False,
            stdin: bytes | None = None, user: str | None = None) -> Result:
        """Run ``cmd`` with ``sh -c`` in the guest; raise :class:`SSHError` on failure if ``check``."""
        if user and user != "root":
            cmd = f"su -s /bin/sh {shlex.quote(user)} -c {shlex.quote(cmd)}"
        client = self._connect()
        transport = client.get_transport()
        assert transport is not None
        started = time.monotonic()
        try:
            chan = transport.open_session(timeout=self.connect_timeout)
            chan.settimeout(timeout)
            chan.exec_command(cmd)
            if stdin is not None:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = self._drain(chan, cmd, timeout)
            status = chan.recv_exit_status()
            chan.close()
        except TimeoutError as exc:
            raise SSHTimeout(f"timed out after {timeout:.0f} s", cmd) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self.close()
            raise SSHError(f"SSH channel failed: {exc}", cmd) from exc
        result = Result(cmd, status, out.decode(errors="replace"), err.decode(errors="replace"))
        for observe in self.observers:
            observe(result, time.monotonic() - started)
        if check and not result.ok:
            raise SSHError(f"exit status {status}", cmd, result.stdout, result.stderr, status)
        return result

    @staticmethod
    def _drain(chan: paramiko.Channel, cmd: str, timeout: float) -> tuple[bytes, bytes]:
        deadline = time.monotonic() + timeout
        out, err = bytearray(), bytearray()
        while True:
            if time.monotonic() > deadline:
                raise SSHTimeout(f"timed out after {timeout:.0f} s", cmd, out.decode(errors="replace"),
                                 err.decode(errors="replace"))
            got = False
            if chan.recv_ready():
                out += chan.recv(1 << 16)
                got = True
            if chan.recv_stderr_ready():
                err += chan.recv_stderr(1 << 16)
                got = True
            if not got:
                if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                    # the channel may still hold data that arrived with the exit status
                    while chan.recv_ready():
                        out += chan.recv(1 << 16)
                    while chan.recv_stderr_ready():
                        err += chan.recv_stderr(1 << 16)
                    return bytes(out), bytes(err)
                time.sleep(0.005)

    def write_bytes(self, remote: str, data: bytes, mode: int = 0o644, timeout: float = 120.0) -> None:
        q = shlex.quote(remote)
        self.run(f"cat > {q} && chmod {mode:o} {q}", timeout, check=True, stdin=data)

    def read_bytes(self, remote: str, timeout: float = 120.0) -> bytes:
        return self.output_bytes(f"cat {shlex.quote(remote)}", timeout, what=f"cannot read {remote}")

    def output_bytes(self, cmd: str, timeout: float = 120.0, what: str = "command failed") -> bytes:
        """The raw standard output of ``cmd``; :class:`SSHError` if it fails."""
        client = self._connect()
        transport = client.get_transport()
        assert transport is not None
        chan = transport.open_session(timeout=self.connect_timeout)
        chan.settimeout(timeout)
        chan.exec_command(cmd)
        try:
            out, err = self._drain(chan, cmd, timeout)
        finally:
            status = chan.recv_exit_status()
            chan.close()
        if status != 0:
            raise SSHError(what, cmd, "", err.decode(errors="replace"), status)
        return out

    def put(self, local: Path, remote: str, timeout: float = 120.0) -> None:
        self.write_bytes(remote, local.read_bytes(), mode=local.stat().st_mode & 0o777, timeout=timeout)

    def get(self, remote: str, local: Path, timeout: float = 120.0) -> None:
        local.write_bytes(self.read_bytes(remote, timeout))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
