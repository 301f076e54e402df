"""A private PostgreSQL server for the integration tests.

Runs Debian's PostgreSQL binaries (initdb, pg_ctl) on a Unix socket in a
temporary directory that the test owns, with no TCP listener, and removes
everything when stopped. As root the server runs as the `postgres` user,
because initdb refuses to run as root. Password authentication (SCRAM) is
on for every connection, so the tests exercise DB_PASSWORD.
"""

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile

# Database, schema and roles the fixture creates.
DATABASE = "omop"
SCHEMA = "omop_cdm"
READER_ROLE = "omop_reader"

# Port in the socket's file name (.s.PGSQL.PORT); nothing listens on TCP.
PORT = "5432"


def binary_directory():
    """Return the directory of Debian's PostgreSQL server binaries, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return os.path.dirname(candidates[0]) if candidates else None


def missing_reason():
    """Return why a server cannot be started here, or None."""
    if binary_directory() is None:
        return ("PostgreSQL server binaries are missing: install the Debian package "
                "postgresql (make test-deps does)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run the server as"
    return None


class PostgresServer:
    """A running server. Use start() and stop(), or `with`."""

    def __init__(self):
        self.bindir = binary_directory()
        self.directory = None
        self.superuser = "postgres"
        self.superuser_password = secrets.token_hex(16)
        self.reader_password = secrets.token_hex(16)
        self._as_postgres = os.geteuid() == 0

    # -- process helpers

    def _run(self, *args, input_text=None):
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--"] + command
        completed = subprocess.run(command, capture_output=True, text=True, input=input_text,
                                   timeout=120, cwd=self.directory)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({completed.returncode}):\n"
                               f"{completed.stdout}\n{completed.stderr}\n{self._log_tail()}")
        return completed.stdout

    def _log_tail(self):
        try:
            with open(os.path.join(self.directory, "server.log")) as log:
                return log.read()[-4000:]
        except (OSError, TypeError):
            return ""

    @property
    def socket_dir(self):
        return self.directory

    @property
    def data_dir(self):
        return os.path.join(self.directory, "data")

    # -- life cycle

    def start(self):
        self.directory = tempfile.mkdtemp(prefix="omcp-pg-")
        os.chmod(self.directory, 0o755)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        pwfile = os.path.join(self.directory, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.superuser_password + "\n")
        if self._as_postgres:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        os.chmod(pwfile, 0o600)
        try:
            self._run(os.path.join(self.bindir, "initdb"), "-D", self.data_dir, "-U",
                      self.superuser, "--pwfile", pwfile, "--auth", "scram-sha-256",
                      "--encoding", "UTF8", "--locale", "C")
            os.unlink(pwfile)
            options = f"-k {self.directory} -p {PORT} -c listen_addresses='' -c fsync=off"
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data_dir, "-l",
                      os.path.join(self.directory, "server.log"), "-o", options, "-w", "start")
            self._create_database()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        if self.directory is None:
            return
        if os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            try:
                self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data_dir, "-m",
                          "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- SQL

    def psql(self, sql, user=None, password=None, database=DATABASE):
        """Run SQL with psql and return its unaligned output."""
        env = dict(os.environ)
        env["PGPASSWORD"] = password or self.superuser_password
        command = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-v",
                   "ON_ERROR_STOP=1", "-h", self.directory, "-p", PORT, "-U",
                   user or self.superuser, "-d", database, "-c", sql]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        if completed.returncode != 0:
            raise RuntimeError(f"psql failed: {completed.stderr.strip()}")
        return completed.stdout

    def _create_database(self):
        self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        # The read-only role that production should use, as the README
        # shows it.
        self.psql(f"""
            CREATE SCHEMA IF NOT EXISTS {SCHEMA};
            CREATE ROLE {READER_ROLE} LOGIN PASSWORD '{self.reader_password}';
            GRANT CONNECT ON DATABASE {DATABASE} TO {READER_ROLE};
            GRANT USAGE ON SCHEMA {SCHEMA} TO {READER_ROLE};
            GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READER_ROLE};
            ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT SELECT ON TABLES TO {READER_ROLE};
            ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on;
        """)

    def environment(self, reader=False):
        """Return the DB_* variables that point omcp at this server, as the
        superuser (for loading) or as the read-only role."""
        return {
            "DB_BACKEND": "postgresql",
            "DB_HOST": self.directory,
            "DB_PORT": PORT,
            "DB_NAME": DATABASE,
            "DB_SCHEMA": SCHEMA,
            "DB_USER": READER_ROLE if reader else self.superuser,
            "DB_PASSWORD": self.reader_password if reader else self.superuser_password,
        }
