"""Helpers for the fault tests: real processes (a Celery worker, a web server, a private
PostgreSQL or Redis server) on a database of the test's own, every wait bounded.

The processes must see the same database as the test, so each test gets its own: a SQLite
file on the SQLite pass, a fresh PostgreSQL database beside DATABASE_URL's on the PostgreSQL
pass (dropped afterwards). Every process started here runs in its own session (process
group), so that a test can SIGKILL a worker with its pool children, and `stop` never leaves
one behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Call `check` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


@dataclass
class Stack:
    """One test's database, media folder and environment, and the processes it started."""

    tmp: Path
    database_url: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def media(self) -> Path:
        return Path(self.env["MEDIA_ROOT"])

    def run(self, *args: str, timeout: float = 180, env: dict[str, str] | None = None) -> str:
        """Run `python ARGS` to completion in the stack's environment; its stdout."""
        done = subprocess.run(
            [PYTHON, *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{args}: {done.stderr[-4000:]}"
        return done.stdout

    def start(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a process in a session of its own, output to tmp/NAME.log."""
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start_worker(
        self, name: str, *, concurrency: int = 1, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A real Celery worker on the `reports` queue whose renders are counted (and slowed
        by FAULT_RENDER_DELAY): tests/faults/worker_main.py."""
        return self.start(
            name,
            [
                PYTHON,
                "-m",
                "tests.faults.worker_main",
                "-Q",
                "reports",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}@%h",
            ],
            env=env,
        )

    def stop(self, proc: subprocess.Popen[bytes], *, kill: bool = False) -> None:
        """Stop a process and its group: SIGTERM (or SIGKILL), then SIGKILL after 20 s."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # Pool children of a killed worker may outlive their parent for a moment.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the stack's database (`?` placeholders)."""
        if self.database_url.startswith("sqlite:///"):
            with contextlib.closing(
                sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=20)
            ) as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=10) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]

    def files(self) -> list[str]:
        """Every file under MEDIA_ROOT, relative to it."""
        if not self.media.exists():
            return []
        return sorted(str(p.relative_to(self.media)) for p in self.media.rglob("*") if p.is_file())


@contextlib.contextmanager
def stack(tmp_path: Path, name: str, *, database_url: str = "", **env: str) -> Iterator[Stack]:
    """A migrated database of the test's own and its environment; stops what was started.

    `database_url` names an empty database to use instead (a private server's)."""
    outer = os.environ.get("DATABASE_URL", "")
    on_postgres = not database_url and outer.startswith(("postgres://", "postgresql://"))
    if database_url:
        pass
    elif on_postgres:
        base, _, _db = outer.rpartition("/")
        db_name = f"gradient_fault_{name}"  # fixed: a rerun clears a leftover
        database_url = f"{base}/{db_name}"
        admin = f"{base}/postgres"  # the maintenance database: DATABASE_URL's may not exist
        _pg_admin(admin, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        _pg_admin(admin, f'CREATE DATABASE "{db_name}"')
    else:
        database_url = f"sqlite:///{tmp_path / 'fault.sqlite3'}"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradient.settings",
        "DATABASE_URL": database_url,
        "GRADIENT_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONPATH": str(ROOT),
        "FAULT_RENDER_LOG": str(tmp_path / "renders.log"),
        **env,
    }
    s = Stack(tmp=tmp_path, database_url=database_url, env=full_env)
    try:
        s.run("manage.py", "migrate", "--noinput", "-v", "0")
        yield s
    finally:
        for proc in reversed(s.procs):
            s.stop(proc)
        if on_postgres:
            _pg_admin(admin, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def renders(stack: Stack) -> tuple[list[int], list[int]]:
    """The pids of the renders that started and of those that finished."""
    path = Path(stack.env["FAULT_RENDER_LOG"])
    lines = path.read_text().split() if path.exists() else []
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    return (
        [int(pid) for what, pid in pairs if what == "start"],
        [int(pid) for what, pid in pairs if what == "end"],
    )


JOB = (
    "SELECT status, progress, error, pdf, xlsx, attempts, claimed_by, queued_at, finished_at,"
    " annex_status, annex_error, annex_attempts, annex_claimed_by"
    " FROM reports_reportjob WHERE id = ?"
)


def job_finished(stack: Stack, job_id: int, *, timeout: float, what: str) -> dict[str, Any]:
    """The job's row once both its PDF and its annex (a task of its own) are done or failed."""
    return wait_for(
        lambda: (
            (r := job_row(stack, job_id))["status"] in {"done", "failed"}
            and r["annex_status"] in {"done", "failed"}
            and r
        ),
        timeout=timeout,
        what=what,
    )


def job_row(stack: Stack, job_id: int) -> dict[str, Any]:
    cols = [
        "status",
        "progress",
        "error",
        "pdf",
        "xlsx",
        "attempts",
        "claimed_by",
        "queued_at",
        "finished_at",
        "annex_status",
        "annex_error",
        "annex_attempts",
        "annex_claimed_by",
    ]
    rows = stack.query(JOB, job_id)
    assert rows, f"no report job {job_id}"
    return dict(zip(cols, rows[0], strict=True))


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb into a temporary folder), so that a test
    can stop and start it without touching the shared one on port 5432. As root, the server
    runs as the `postgres` user (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            if os.environ.get("CI"):
                pytest.fail("CI needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
            pytest.skip("PostgreSQL's server binaries are not installed")
        self.bin = found[-1].parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="gradient-fault-pg-"))
        self.data = self.dir / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale",
            "C",
        )

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.dir,
        )
        if check:
            assert done.returncode == 0, f"{tool}: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        _pg_admin(self.url(), f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private PostgreSQL server, stopped and removed afterwards."""
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def redis_server_binary() -> str:
    """Path of redis-server; skipped (failed under CI) where it is not installed."""
    found = shutil.which("redis-server")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI needs redis-server to start a private broker")
        pytest.skip("redis-server is not installed")
    return found


def start_redis(s: Stack, port: int | None = None) -> str:
    """A private Redis server for this test, its URL also set as the stack's broker.

    Each fault test gets its own broker: the tests run in parallel (pytest-xdist), and two
    workers on one shared queue would take each other's tasks."""
    port = port or free_port()
    s.start(
        "redis",
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    wait_for(lambda: port_open(port), timeout=30, what="redis-server\n" + s.log("redis"))
    url = f"redis://127.0.0.1:{port}/0"
    s.env["CELERY_BROKER_URL"] = url
    return url
