"""A PostgreSQL cluster of the chaos run's own: initdb into a temporary directory, on a free
port, trust authentication, stopped and removed at the end. Restarting it (a fault of the
run) touches nothing else on the machine."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no initdb: install PostgreSQL's server package")
    return Path(initdb).parent


@dataclass
class OwnPostgres:
    port: int
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cairn-chaos-pg-")))
    bin_dir: Path = field(default_factory=_bin_dir)

    @property
    def url(self) -> str:
        """The server's URL, without a database name."""
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def start(self) -> OwnPostgres:
        data = self.root / "data"
        if not data.exists():
            self._chown(self.root)
            self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8")
        self._pg_ctl("start")
        return self

    def running(self) -> bool:
        """Whether the server runs (pg_ctl status)."""
        return self._run("pg_ctl", "status", "-D", str(self.root / "data"),
                         check=False).returncode == 0

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.root} -c max_connections=200")
        self._run("pg_ctl", action, "-D", str(self.root / "data"), "-w", "-t", "60",
                  "-l", str(self.root / "postgres.log"), "-o", options, *extra)

    def _run(self, program: str, *args: str, check: bool = True
             ) -> subprocess.CompletedProcess:
        argv = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, cwd=self.root)

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(path, user.pw_uid, user.pw_gid)
