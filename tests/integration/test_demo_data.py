#!/usr/bin/python3
"""omcp demo-data and make demo: the synthetic CDM has its documented row
counts, is the same on every run, loads only into an empty CDM, and the
demo script runs to the end against the real binary."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import omcp_client
import pg_server

# Rows per table of the demo CDM, as the README documents them.
DEMO_ROWS = {
    "concept": 193,
    "cdm_source": 1,
    "person": 300,
    "observation_period": 300,
    "visit_occurrence": 2244,
    "condition_occurrence": 1301,
    "drug_exposure": 3555,
    "measurement": 27736,
    "death": 8,
}

DEMO_MEASUREMENTS_WITHOUT_VALUE = 840

# Seconds the whole demo script may take: a server start, a few queries
# and three short Python executions.
DEMO_SCRIPT_TIMEOUT = 300


def file_digests(directory):
    """Return {file name: SHA-256} of the files in DIRECTORY."""
    digests = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            digests[name] = hashlib.sha256(f.read()).hexdigest()
    return digests


def table_digest(db_path, table):
    """Return the SHA-256 of every row of TABLE in a fixed order."""
    connection = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        digest = hashlib.sha256()
        for row in connection.execute("SELECT * FROM %s ORDER BY 1, 2, 3, 4" % table):
            digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        connection.close()


def row_counts(db_path):
    connection = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        return {table: connection.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
                for table in DEMO_ROWS}
    finally:
        connection.close()


class DemoData(omcp_client.ServerTestCase):

    def setUp(self):
        self.workdir = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)

    def omcp(self, *args, db_path=None, tmpdir=None, database=None, timeout=120):
        """Run omcp demo-data ARGS on the SQLite file DB_PATH, or on the
        DATABASE variables when given."""
        env = {key: value for key, value in omcp_client.base_environment(log_level=None).items()
               if not key.startswith(("DB_", "OMOP_"))}
        env["DB_BACKEND"] = "sqlite"
        env["DB_PATH"] = db_path or os.path.join(self.workdir, "omop.sqlite")
        env.update(database or {})
        if tmpdir:
            env["TMPDIR"] = tmpdir
        return subprocess.run([str(omcp_client.omcp_binary()), "demo-data", *args],
                              capture_output=True, text=True, errors="replace", env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.workdir)

    def test_documented_row_counts(self):
        db_path = os.path.join(self.workdir, "counts.sqlite")
        completed = self.omcp(db_path=db_path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("Loaded the demo CDM, %d rows" % sum(DEMO_ROWS.values()), completed.stdout)
        self.assertEqual(row_counts(db_path), DEMO_ROWS)

    def test_data_has_nulls_and_units(self):
        db_path = os.path.join(self.workdir, "values.sqlite")
        self.assertEqual(self.omcp(db_path=db_path).returncode, 0)
        connection = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
        self.addCleanup(connection.close)
        missing, without_unit = connection.execute(
            "SELECT SUM(value_as_number IS NULL), SUM(unit_concept_id IS NULL) "
            "FROM measurement").fetchone()
        self.assertEqual(missing, DEMO_MEASUREMENTS_WITHOUT_VALUE)
        self.assertEqual(without_unit, 0)
        # Every measurement unit is a concept of the Unit domain.
        units = connection.execute(
            "SELECT DISTINCT c.domain_id FROM measurement m "
            "JOIN concept c ON c.concept_id = m.unit_concept_id").fetchall()
        self.assertEqual(units, [("Unit",)])
        # Deaths end the observation period.
        mismatched = connection.execute(
            "SELECT COUNT(*) FROM death d JOIN observation_period o ON o.person_id = d.person_id "
            "WHERE o.observation_period_end_date <> d.death_date").fetchone()[0]
        self.assertEqual(mismatched, 0)

    def test_same_csv_bytes_every_run(self):
        first = os.path.join(self.workdir, "first")
        second = os.path.join(self.workdir, "second")
        for directory in (first, second):
            completed = self.omcp("--csv-only", directory)
            self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(sorted(file_digests(first)),
                         sorted("%s.csv" % table for table in DEMO_ROWS))
        self.assertEqual(file_digests(first), file_digests(second))

    def test_same_database_rows_every_run(self):
        paths = [os.path.join(self.workdir, name) for name in ("a.sqlite", "b.sqlite")]
        for path in paths:
            completed = self.omcp(db_path=path)
            self.assertEqual(completed.returncode, 0, completed.stderr)
        for table in DEMO_ROWS:
            with self.subTest(table=table):
                self.assertEqual(table_digest(paths[0], table), table_digest(paths[1], table))

    def test_csv_only_leaves_database_alone(self):
        db_path = os.path.join(self.workdir, "untouched.sqlite")
        completed = self.omcp("--csv-only", os.path.join(self.workdir, "csv"), db_path=db_path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertFalse(os.path.exists(db_path))

    def test_loaded_cdm_rejected(self):
        db_path = os.path.join(self.workdir, "twice.sqlite")
        self.assertEqual(self.omcp(db_path=db_path).returncode, 0)
        completed = self.omcp(db_path=db_path)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("already contains 300 persons", completed.stderr)
        self.assertIn("DB_PATH", completed.stderr)
        self.assertEqual(row_counts(db_path), DEMO_ROWS)

    def test_temporary_directory_removed(self):
        tmpdir = os.path.join(self.workdir, "tmp")
        os.mkdir(tmpdir)
        completed = self.omcp(db_path=os.path.join(self.workdir, "tmpdir.sqlite"), tmpdir=tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(os.listdir(tmpdir), [])

    def test_kept_directory_has_csv(self):
        directory = os.path.join(self.workdir, "kept")
        completed = self.omcp(directory, db_path=os.path.join(self.workdir, "kept.sqlite"))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(sorted(os.listdir(directory)),
                         sorted("%s.csv" % table for table in DEMO_ROWS))

    def test_directory_with_other_csv_rejected(self):
        directory = os.path.join(self.workdir, "other")
        os.mkdir(directory)
        for name in ("notes.txt", "PERSON.csv"):
            with open(os.path.join(directory, name), "w") as f:
                f.write("person_id\n")
        db_path = os.path.join(self.workdir, "other.sqlite")
        completed = self.omcp(directory, db_path=db_path)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("'PERSON.csv'", completed.stderr)
        self.assertEqual(sorted(os.listdir(directory)), ["PERSON.csv", "notes.txt"])
        self.assertEqual(row_counts(db_path)["person"], 0)

    def test_bad_arguments(self):
        cases = [
            (["--csv-only"], "needs a directory"),
            (["--frobnicate"], "--frobnicate"),
            (["one", "two"], "'two'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                completed = self.omcp(*args)
                self.assertEqual(completed.returncode, 2)
                self.assertIn(message, completed.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.workdir, "omop.sqlite")))

    def test_unwritable_directory_reported(self):
        # A regular file where the directory should be.
        blocker = os.path.join(self.workdir, "file")
        with open(blocker, "w") as f:
            f.write("x")
        completed = self.omcp("--csv-only", os.path.join(blocker, "csv"))
        self.assertEqual(completed.returncode, 1)
        self.assertIn("cannot create", completed.stderr)
        self.assertIn(blocker, completed.stderr)

    def test_postgresql_same_rows(self):
        reason = pg_server.missing_reason()
        if reason:
            self.skipTest(reason)
        db_path = os.path.join(self.workdir, "compare.sqlite")
        self.assertEqual(self.omcp(db_path=db_path).returncode, 0)
        with pg_server.PostgresServer() as server:
            completed = self.omcp(database=server.environment())
            self.assertEqual(completed.returncode, 0, completed.stderr)
            self.assertIn("into the postgresql database", completed.stdout)
            for table, rows in DEMO_ROWS.items():
                with self.subTest(table=table):
                    counted = server.psql("SELECT COUNT(*) FROM %s.%s"
                                          % (pg_server.SCHEMA, table))
                    self.assertEqual(int(counted), rows)

            # The same values on both backends, NULLs included.
            summary = ("SELECT COUNT(value_as_number), ROUND(CAST(SUM(value_as_number) "
                       "AS NUMERIC), 1), COUNT(range_low) FROM %s")
            pg_values = server.psql(summary % (pg_server.SCHEMA + ".measurement")).strip()
            connection = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
            self.addCleanup(connection.close)
            count, total, ranges = connection.execute(
                "SELECT COUNT(value_as_number), SUM(value_as_number), COUNT(range_low) "
                "FROM measurement").fetchone()
            self.assertEqual(pg_values, "%d|%.1f|%d" % (count, total, ranges))

            again = self.omcp(database=server.environment())
            self.assertEqual(again.returncode, 1)
            self.assertIn("already contains 300 persons", again.stderr)
            self.assertIn("DB_SCHEMA", again.stderr)

    def test_demo_script_runs(self):
        if os.geteuid() != 0:
            self.skipTest("the demo creates sandboxes, which need root")
        # The sandboxes must be able to enter every directory above the
        # demo database, which the 0700 log directory would prevent.
        tmpdir = tempfile.mkdtemp(prefix="omcp-it-demo-")
        os.chmod(tmpdir, 0o755)
        self.addCleanup(shutil.rmtree, tmpdir, ignore_errors=True)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("DB_", "OMOP_"))}
        env["TMPDIR"] = tmpdir
        completed = subprocess.run(
            [sys.executable, str(omcp_client.REPO_ROOT / "scripts" / "demo.py"),
             "--binary", str(omcp_client.omcp_binary())],
            capture_output=True, text=True, errors="replace", env=env,
            timeout=DEMO_SCRIPT_TIMEOUT, stdin=subprocess.DEVNULL, cwd=self.workdir)
        self.assertEqual(completed.returncode, 0,
                         "demo.py failed:\n%s\n%s" % (completed.stdout, completed.stderr))
        for text in ("Loaded the demo CDM", "Q1. Prevalence of type 2 diabetes",
                     "Q2. Mean HbA1c", "rejected: Only read-only SELECT queries are allowed",
                     "Server exited with status 0"):
            self.assertIn(text, completed.stdout)
        # The demo removed its temporary directory and database.
        self.assertEqual(os.listdir(tmpdir), [])


if __name__ == "__main__":
    omcp_client.main(need_root=False)
