"""A throwaway PostgreSQL server for the tests, started from Python, no Docker.

The binaries come from the `pgserver` package (in the dev extras: its wheel ships PostgreSQL),
or else from the system (`pg_ctl` and `initdb` on PATH, or Debian's /usr/lib/postgresql/*/bin).
`REFLECT_TEST_POSTGRES=system` or `=pgserver` picks one source and fails if it is missing.

The server lives in a fresh temporary folder, listens on a Unix socket in that folder only (no
TCP port), trusts local connections, and runs without fsync (a test server loses nothing that
matters in a crash). Run as root, as CI does, the server runs as an unprivileged account
(`postgres` if it exists, else `nobody`): PostgreSQL refuses to run as root.

Initialising a cluster (initdb) is the slow part, so the first start on a machine keeps a
stopped, initialised cluster (with the databases asked for) as a template, and every
later start copies it, which takes a fraction of the time. The template is rebuilt when the
binaries or the databases asked for change. All of it lives in /dev/shm when the machine has it
(file writes are most of the cost), else in /tmp.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

#: Which binaries to use: "pgserver", "system", or unset for the first that is found.
CHOICE_VARIABLE = "REFLECT_TEST_POSTGRES"
_SETTINGS = (
    "listen_addresses=''",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
    "shared_buffers=32MB",
)


#: Room a server and its template need in memory (a cluster is about 55 MB), with margin.
_ROOM_NEEDED = 512 * 1024 * 1024


def _base() -> str:
    """Where servers live: memory (/dev/shm) when there is one with room, since initialising
    and copying a cluster is mostly file writes; else /tmp. Both keep the socket path short."""
    shm = Path("/dev/shm")
    try:
        usable = os.access(shm, os.W_OK | os.X_OK)
        room = os.statvfs(shm).f_bavail * os.statvfs(shm).f_frsize if usable else 0
    except OSError:
        room = 0
    return str(shm) if room >= _ROOM_NEEDED else "/tmp"


_BASE = _base()


class NoPostgres(RuntimeError):
    """No PostgreSQL binaries were found (neither the pgserver package nor pg_ctl)."""


def pgserver_binaries() -> Path | None:
    """The bin folder inside the installed `pgserver` wheel, without importing the package."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "pginstall" / "bin"
    return folder if (folder / "pg_ctl").exists() else None


def system_binaries() -> Path | None:
    """Where the system's pg_ctl and initdb are: on PATH, or Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def find_binaries(choice: str | None = None) -> tuple[str, Path]:
    """(source, bin folder) of the PostgreSQL to run. Raises NoPostgres with what to install."""
    choice = choice if choice is not None else os.environ.get(CHOICE_VARIABLE, "")
    sources = {"pgserver": pgserver_binaries, "system": system_binaries}
    if choice and choice not in sources:
        raise NoPostgres(f"{CHOICE_VARIABLE} must be 'pgserver' or 'system', not {choice!r}.")
    for name in [choice] if choice else list(sources):
        folder = sources[name]()
        if folder is not None:
            return name, folder
    raise NoPostgres(
        "No PostgreSQL to test with: install the dev extras (pip install -e '.[dev]', which "
        "brings pgserver) or the system's postgresql package (pg_ctl and initdb)."
    )


@dataclass
class PgServer:
    """A running throwaway server. `url(name)` is a psycopg URL for database `name`."""

    source: str
    bin_dir: Path
    root: Path
    _run_as: tuple[int, int] | None = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(RuntimeError, subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        with contextlib.suppress(OSError, ValueError, IndexError):
            postmaster = int(pid_file.read_text().split()[0])  # still there: pg_ctl failed
            os.kill(postmaster, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        user, group = self._run_as or (None, None)
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            text=True,
            timeout=60,
            user=user,
            group=group,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )


def _unprivileged() -> tuple[int, int] | None:
    """The account to run the server as when we are root (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise NoPostgres("Running as root with neither a 'postgres' nor a 'nobody' account.")


_OWNER = "owner.pid"


def _new_root(run_as: tuple[int, int] | None) -> Path:
    # A short path: a Unix socket path must stay under about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="reflect-pg-", dir=_BASE))
    (root / _OWNER).write_text(str(os.getpid()))
    if run_as is not None:
        os.chown(root, *run_as)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(bin_dir: Path) -> int:
    """Stop and remove servers whose test run died without stopping them (killed, or out of
    time): their owner process is gone. Returns how many were removed."""
    removed = 0
    for root in Path(_BASE).glob("reflect-pg-*"):
        owner = root / _OWNER
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue  # a template, a copy of binaries, or not ours
        if _alive(pid):
            continue
        server = PgServer(source="abandoned", bin_dir=bin_dir, root=root, _run_as=_unprivileged())
        server.stop()
        removed += 1
    return removed


def _initdb(server: PgServer) -> None:
    server._run(
        "initdb",
        *("-D", str(server.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
        "--no-locale",
        "--no-sync",
    )


def _pg_ctl_start(server: PgServer) -> None:
    options = " ".join([f"-k {server.root}", *(f"-c {setting}" for setting in _SETTINGS)])
    server._run(
        "pg_ctl",
        *("-D", str(server.data_dir), "-l", str(server.root / "server.log")),
        *("-o", options, "-w", "-t", "60", "start"),
    )


def _template_key(bin_dir: Path, databases: tuple[str, ...]) -> str:
    postgres = (bin_dir / "postgres").stat()
    identity = f"{bin_dir}|{postgres.st_size}|{postgres.st_mtime_ns}|{databases}|{os.geteuid()}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _template(source: str, bin_dir: Path, databases: tuple[str, ...]) -> Path:
    """A stopped, initialised cluster holding `databases`, built once and kept for copying."""
    cache = Path(_BASE) / f"reflect-pg-templates-{os.geteuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    final = cache / _template_key(bin_dir, databases)
    if (final / "ready").exists():
        return final / "data"
    run_as = _unprivileged()
    server = PgServer(source=source, bin_dir=bin_dir, root=_new_root(run_as), _run_as=run_as)
    try:
        _initdb(server)
        if databases:
            _pg_ctl_start(server)
            with server.admin() as conn:
                for name in databases:
                    conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            server._run("pg_ctl", "-D", str(server.data_dir), "-m", "fast", "-w", "stop")
        building = Path(tempfile.mkdtemp(prefix="building-", dir=cache))
        shutil.move(str(server.data_dir), building / "data")
        (building / "ready").touch()
        try:
            building.rename(final)
        except OSError:  # another test run built it at the same moment: keep theirs
            shutil.rmtree(building, ignore_errors=True)
    finally:
        server.stop()
    return final / "data"


def _copy_owned(template: Path, target: Path, run_as: tuple[int, int] | None) -> None:
    shutil.copytree(template, target, symlinks=True)
    if run_as is not None:
        for folder, subfolders, files in os.walk(target):
            os.chown(folder, *run_as)
            for name in [*subfolders, *files]:
                os.chown(os.path.join(folder, name), *run_as, follow_symlinks=False)


def _runs_as(bin_dir: Path, run_as: tuple[int, int] | None) -> bool:
    try:
        result = subprocess.run(
            [str(bin_dir / "postgres"), "--version"],
            capture_output=True,
            timeout=30,
            user=run_as[0] if run_as else None,
            group=run_as[1] if run_as else None,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0


def _usable(bin_dir: Path, run_as: tuple[int, int] | None) -> Path:
    """`bin_dir`, or a world-readable copy of its installation when the unprivileged account
    cannot reach it (a virtualenv under a private home folder, as root in CI)."""
    if _runs_as(bin_dir, run_as):
        return bin_dir
    # pgserver's layout: <site>/pgserver/pginstall/{bin,lib,share}, and the shared libraries
    # the wheel bundles in <site>/pgserver.libs (found through a relative rpath): keep both.
    install = bin_dir.parent
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    copy = Path(_BASE) / f"reflect-pg-bin-{_template_key(bin_dir, ())}"
    if not (copy / "ready").exists():
        building = Path(tempfile.mkdtemp(prefix="reflect-pg-bin-building-", dir=_BASE))
        os.chmod(building, 0o755)
        shutil.copytree(install, building / package.name / install.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, building / libs.name, symlinks=True)
        for folder, _, _ in os.walk(building):
            os.chmod(folder, 0o755)
        (building / "ready").touch()
        try:
            building.rename(copy)
        except OSError:  # built by another test run at the same moment
            shutil.rmtree(building, ignore_errors=True)
    usable = copy / package.name / install.name / bin_dir.name
    if not _runs_as(usable, run_as):
        raise NoPostgres(f"The PostgreSQL binaries in {bin_dir} cannot be run by the server.")
    return usable


def start(choice: str | None = None, *, databases: tuple[str, ...] = ()) -> PgServer:
    """Start a server (holding `databases`, created empty) in a new temporary folder; stop it
    with `.stop()`."""
    source, found = find_binaries(choice)
    bin_dir = _usable(found, _unprivileged())
    remove_abandoned(bin_dir)
    template = _template(source, bin_dir, databases)
    run_as = _unprivileged()
    server = PgServer(source=source, bin_dir=bin_dir, root=_new_root(run_as), _run_as=run_as)
    try:
        _copy_owned(template, server.data_dir, run_as)
        _pg_ctl_start(server)
    except BaseException:
        server.stop()
        raise
    return server
