"""A throwaway PostgreSQL 15 cluster (initdb + pg_ctl in a temp dir, tuned for speed over
durability), shared by the test harness (``tests/conftest.py``) and the benchmarks.

``LAP_PG_BIN`` is where ``initdb``/``pg_ctl`` live; ``LAP_TEST_PG_DIR`` where clusters go.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("LAP_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temp dir, tuned for speed over durability."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="lap-pg-", dir=_cluster_parent()))
            (root / "owner.pid").write_text(str(os.getpid()))
        self.root = root
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = 0
        self.running = False
        self.os_user: str | None = None
        if os.geteuid() == 0:
            # initdb refuses to run as root.
            self.os_user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.root, user=self.os_user)

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(PG_BIN / program), *args]
        if self.os_user:
            command = ["runuser", "-u", self.os_user, "--", *command]
        return subprocess.run(  # noqa: S603
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )

    def start(self) -> None:
        done = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        last_error = ""
        for _attempt in range(5):  # the free port may be taken before the server binds it
            port = free_port()
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off"
                f" -k {self.root}"
            )
            done = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                "-w", "-t", "60", "start",
            )  # fmt: skip
            if done.returncode == 0:
                self.port = port
                self.running = True
                return
            last_error = f"{done.stdout}\n{done.stderr}\n{self._log_tail()}"
        raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"


def _cluster_parent() -> str | None:
    """Where to put the cluster: ``LAP_TEST_PG_DIR``, else tmpfs when it is roomy (cloning
    a database there takes ~10 ms instead of ~100 ms on disk), else /tmp. The path stays
    short because the Unix socket lives there too (107-byte limit)."""
    chosen = os.environ.get("LAP_TEST_PG_DIR")
    if chosen:
        return chosen
    shm = "/dev/shm"  # noqa: S108
    try:
        stats = os.statvfs(shm)
        if stats.f_bavail * stats.f_frsize >= 1 << 30 and os.access(shm, os.W_OK):
            return shm
    except OSError:
        pass
    return "/tmp" if Path("/tmp").is_dir() else None  # noqa: S108


def remove_stale_clusters() -> None:
    """Stop and delete clusters whose pytest was killed (tmpfs is memory)."""
    parent = Path(_cluster_parent() or tempfile.gettempdir())
    for root in parent.glob("lap-pg-*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if _process_alive(owner):
            continue  # another session's
        if (root / "data" / "postmaster.pid").exists():
            stale = PostgresCluster(root)
            stale.running = True
            stale.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
