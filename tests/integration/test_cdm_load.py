#!/usr/bin/python3
"""`omcp cdm init` and `omcp cdm load` on SQLite and PostgreSQL: the
Synthea27Nj CDM export loads completely, broken input is reported with
file, line and reason and loads nothing, and read-only connections return
typed rows and cannot write."""

import csv
import errno
import hashlib
import io
import json
import os
import pathlib
import pty
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
import zipfile

import omcp_client
import pg_server

SYNTHEA_ZIP = omcp_client.find_synthea_zip()


def csv_record_counts(zip_path):
    """Return {table: records} for the CSV members of ZIP_PATH, counted
    with Python's csv module (records, not lines: fields may hold
    newlines)."""
    counts = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            base = name.rsplit("/", 1)[-1]
            if name.startswith("__MACOSX/") or base.startswith("._") \
                    or not base.lower().endswith(".csv"):
                continue
            text = archive.read(name).decode("utf-8-sig")
            records = list(csv.reader(io.StringIO(text, newline="")))
            counts[base[:-4].lower()] = len([r for r in records[1:] if r])
    return counts


def dbquery(env, *args):
    """Run the dbquery helper and return its JSON output."""
    binary = os.environ.get("OMCP_DBQUERY") or str(omcp_client.REPO_ROOT / "build" / "tests"
                                                    / "integration" / "dbquery")
    completed = subprocess.run([binary, *args], capture_output=True, text=True, env=env,
                               timeout=120)
    if not completed.stdout.strip():
        raise AssertionError(f"dbquery printed nothing: {completed.stderr}")
    return json.loads(completed.stdout)


class CdmCommand(unittest.TestCase):
    """Helpers that run omcp with a database configuration."""

    def omcp_env(self, extra):
        env = omcp_client.base_environment(log_level=None)
        for key in list(env):
            if key.startswith("DB_") or key.startswith("QUERY_"):
                del env[key]
        env.update(extra)
        return env

    def omcp(self, env, *args):
        return subprocess.run([str(omcp_client.omcp_binary()), *args], capture_output=True,
                              text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)

    def assert_load_failed(self, completed, *expected):
        self.assertNotEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        for text in expected:
            self.assertIn(text, completed.stderr)


@unittest.skipUnless(SYNTHEA_ZIP.exists(), f"{SYNTHEA_ZIP} is missing")
class SqliteLoad(CdmCommand):

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        cls.path = os.path.join(cls.directory, "cdm.sqlite")
        cls.expected = csv_record_counts(SYNTHEA_ZIP)

    def setUp(self):
        self.env = self.omcp_env({"DB_PATH": self.path})
        if not os.path.exists(self.path):
            completed = self.omcp(self.env, "cdm", "init")
            self.assertEqual(completed.returncode, 0, completed.stderr)
            self.first_load = self.omcp(self.env, "cdm", "load", str(SYNTHEA_ZIP))
            self.assertEqual(self.first_load.returncode, 0, self.first_load.stderr)
            type(self).first_load = self.first_load

    def counts(self, path=None):
        with sqlite3.connect(f"file:{path or self.path}?mode=ro", uri=True) as connection:
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                    for t in tables}

    def copy_database(self):
        """Return the environment of a copy of the loaded database."""
        copy = tempfile.mktemp(dir=self.directory, suffix=".sqlite")
        shutil.copy(self.path, copy)
        return self.omcp_env({"DB_PATH": copy}), copy

    def test_counts_match_csv(self):
        counts = self.counts()
        self.assertEqual(len(counts), 39, sorted(counts))
        for table, records in self.expected.items():
            self.assertEqual(counts[table], records, table)
        self.assertEqual(counts["person"], 28)
        self.assertGreater(counts["concept_relationship"], 260000)

    def test_summary_and_plain_progress(self):
        out = self.first_load.stdout
        total = sum(self.expected.values())
        self.assertIn(f"Loaded {total} rows from {len(self.expected)} files", out)
        # Not a terminal: one plain line per table, no carriage returns.
        self.assertRegex(self.first_load.stderr, r"(?m)^  concept_relationship +266588 rows")
        self.assertNotIn("\r", self.first_load.stderr)

    def test_progress_on_terminal(self):
        env, _ = self.copy_database()
        primary, secondary = pty.openpty()
        try:
            process = subprocess.Popen([str(omcp_client.omcp_binary()), "cdm", "load",
                                        str(SYNTHEA_ZIP)], stdout=subprocess.PIPE,
                                       stderr=secondary, stdin=subprocess.DEVNULL, env=env)
            os.close(secondary)
            chunks = []
            while True:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            self.assertEqual(process.wait(timeout=300), 0)
            process.stdout.close()
        finally:
            os.close(primary)
        text = b"".join(chunks).decode()
        # Each table's line is rewritten in place, then ends with its rate.
        self.assertIn("\r\x1b[K  concept_relationship", text)
        self.assertRegex(text, r"concept_relationship +266588 rows +\d+ rows/s")

    def test_reload_is_idempotent(self):
        env, copy = self.copy_database()
        completed = self.omcp(env, "cdm", "load", str(SYNTHEA_ZIP))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(self.counts(copy), self.counts())

    def test_init_is_idempotent(self):
        env, copy = self.copy_database()
        completed = self.omcp(env, "cdm", "init")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(self.counts(copy), self.counts())

    def test_rows_are_typed_json(self):
        result = dbquery(self.env, "select",
                         "SELECT p.person_id, p.birth_datetime, m.value_as_number, "
                         "m.measurement_date, p.location_id FROM omop_cdm.person p JOIN "
                         "omop_cdm.measurement m ON m.person_id = p.person_id "
                         "WHERE m.measurement_id = 1")
        self.assertTrue(result["success"], result)
        self.assertEqual(result["rows"], [[1, "1998-04-09 00:00:00", 48.1, "2013-05-17", None]])
        # Quoted empty fields are NULL too.
        result = dbquery(self.env, "select",
                         "SELECT count(*) FROM omop_cdm.concept WHERE standard_concept = ''")
        self.assertEqual(result["rows"], [[0]])

    def test_truncated_and_limit(self):
        result = dbquery(self.env, "select", "SELECT person_id FROM omop_cdm.person", "5")
        self.assertEqual(len(result["rows"]), 5)
        self.assertTrue(result["truncated"])
        result = dbquery(self.env, "select", "SELECT person_id FROM omop_cdm.person", "28")
        self.assertFalse(result["truncated"])

    def test_describe_and_tables(self):
        result = dbquery(self.env, "describe", "person")
        self.assertEqual(result["row_count"], 28)
        self.assertEqual(result["columns"][0], {"name": "person_id", "type": "INTEGER",
                                                "nullable": False})
        result = dbquery(self.env, "tables")
        self.assertEqual(result["schemas"][0]["schema"], "omop_cdm")
        self.assertIn("measurement", result["schemas"][0]["tables"])

    def test_read_only_connection_cannot_write(self):
        result = dbquery(self.env, "select", "DELETE FROM omop_cdm.person")
        self.assertFalse(result["success"])
        self.assertEqual(result["errnum"], errno.EACCES)
        self.assertEqual(self.counts()["person"], 28)

    def test_timeout(self):
        env = dict(self.env, QUERY_TIMEOUT_MS="300")
        result = dbquery(env, "select",
                         "SELECT count(*) FROM omop_cdm.concept_relationship a, "
                         "omop_cdm.concept_relationship b")
        self.assertFalse(result["success"])
        self.assertEqual(result["errnum"], errno.ETIMEDOUT)
        self.assertEqual(result["error"], "Query timed out after 300 ms")

    def test_missing_database_file(self):
        env = self.omcp_env({"DB_PATH": os.path.join(self.directory, "absent.sqlite")})
        result = dbquery(env, "select", "SELECT 1")
        self.assertEqual(result["errnum"], errno.ENOENT)
        self.assertIn("absent.sqlite", result["error"])
        self.assertFalse(os.path.exists(os.path.join(self.directory, "absent.sqlite")))

    # -- broken input: each case is reported and changes nothing

    def write_files(self, files):
        directory = tempfile.mkdtemp(dir=self.directory)
        for name, text in files.items():
            with open(os.path.join(directory, name), "w", newline="") as f:
                f.write(text)
        return directory

    def load_broken(self, path, *expected):
        env, copy = self.copy_database()
        before = self.counts(copy)
        completed = self.omcp(env, "cdm", "load", path)
        self.assert_load_failed(completed, *expected)
        self.assertEqual(self.counts(copy), before, "a failed load changed the database")
        return completed

    def test_missing_required_column(self):
        directory = self.write_files({"person.csv": "person_id,year_of_birth,race_concept_id,"
                                                    "ethnicity_concept_id\n1,1990,0,0\n"})
        self.load_broken(directory, "person.csv: line 1: the header lacks the required column "
                                    "gender_concept_id of table person")

    def test_unknown_column(self):
        directory = self.write_files({"death.csv": "person_id,death_date,shoe_size\n1,2020-01-01,"
                                                   "42\n"})
        self.load_broken(directory, "death.csv: line 1: unknown column 'shoe_size'")

    def test_bad_date_names_line(self):
        directory = self.write_files({"observation_period.csv":
                                      "observation_period_id,person_id,"
                                      "observation_period_start_date,"
                                      "observation_period_end_date,period_type_concept_id\n"
                                      "1,1,2020-01-01,2020-12-31,0\n"
                                      "2,2,2021-02-30,2021-12-31,0\n"})
        self.load_broken(directory, "observation_period.csv:3: column "
                                    "observation_period_start_date: '2021-02-30' is not a valid "
                                    "date (expected YYYY-MM-DD)",
                         "observation_period.csv: 1 row rejected; nothing was loaded")

    def test_wrong_type_after_multiline_field(self):
        # The quoted field spans lines 2 and 3, so the bad row is on line 4.
        header = ("person_id,gender_concept_id,year_of_birth,race_concept_id,"
                  "ethnicity_concept_id,person_source_value\n")
        directory = self.write_files({"person.csv": header + '1,8507,1990,0,0,"two\nlines"\n'
                                      "2,8532,nineteen,0,0,x\n"})
        self.load_broken(directory, "person.csv:4: column year_of_birth: 'nineteen' is not an "
                                    "integer")

    def test_duplicate_primary_key_names_line(self):
        header = ("person_id,gender_concept_id,year_of_birth,race_concept_id,"
                  "ethnicity_concept_id\n")
        directory = self.write_files({"person.csv": header + "1,8507,1990,0,0\n"
                                      "1,8532,1991,0,0\n"})
        self.load_broken(directory, "person.csv:3: UNIQUE constraint failed")

    def test_unknown_table_file(self):
        directory = self.write_files({"patients.csv": "id\n1\n"})
        self.load_broken(directory, "patients.csv: no CDM v5.4 table is named 'patients'")

    def test_two_files_for_one_table(self):
        directory = self.write_files({"death.csv": "person_id,death_date\n1,2020-01-01\n",
                                      "DEATH.csv": "person_id,death_date\n2,2020-01-02\n"})
        env, copy = self.copy_database()
        completed = self.omcp(env, "cdm", "load", directory)
        self.assert_load_failed(completed, "table death was already loaded from")
        with sqlite3.connect(copy) as connection:
            self.assertEqual(connection.execute("SELECT count(*) FROM death").fetchone()[0], 1)

    def test_rejected_rows_capped(self):
        rows = "".join(f"{i},x\n" for i in range(1, 251))
        directory = self.write_files({"death.csv": "person_id,death_date\n" + rows})
        completed = self.load_broken(directory, "death.csv:2: column death_date",
                                     "death.csv: 250 rows rejected, only the first 100 "
                                     "are listed; nothing was loaded")
        self.assertEqual(completed.stderr.count("is not a valid date"), 100)

    def test_truncated_zip(self):
        data = SYNTHEA_ZIP.read_bytes()
        truncated = os.path.join(self.directory, "truncated.zip")
        with open(truncated, "wb") as f:
            f.write(data[:len(data) // 2])
        self.load_broken(truncated, "cannot read the zip archive", "truncated or corrupt",
                         "nothing was loaded")

    def test_corrupt_zip_member(self):
        data = bytearray(SYNTHEA_ZIP.read_bytes())
        with zipfile.ZipFile(SYNTHEA_ZIP) as archive:
            info = archive.getinfo("MEASUREMENT.csv")
        # Flip bytes inside the compressed data of one member, past its
        # local header (30 bytes plus name and extra field, at most 200).
        middle = info.header_offset + 200 + info.compress_size // 2
        for i in range(middle, middle + 64):
            data[i] ^= 0xFF
        corrupt = os.path.join(self.directory, "corrupt.zip")
        with open(corrupt, "wb") as f:
            f.write(data)
        self.load_broken(corrupt, "MEASUREMENT.csv", "corrupt", "nothing was loaded")

    def test_upper_case_names_bom_crlf_quotes(self):
        env, copy = self.copy_database()
        text = ("\ufeffperson_id,gender_concept_id,year_of_birth,race_concept_id,"
                "ethnicity_concept_id,person_source_value,gender_source_value,birth_datetime\r\n"
                '7,8507,1990,0,0,"Smith, ""Jo""\r\nsecond line","",1990-01-02T03:04:05Z\r\n'
                "8,8532,1991,0,0,,F,\r\n")
        directory = self.write_files({"PERSON.csv": text, "._PERSON.csv": "junk",
                                      "README.txt": "not a table"})
        completed = self.omcp(env, "cdm", "load", directory)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with sqlite3.connect(copy) as connection:
            rows = connection.execute(
                "SELECT person_id, person_source_value, gender_source_value, birth_datetime "
                "FROM person ORDER BY person_id").fetchall()
        # Loading replaces the table's rows.
        self.assertEqual(rows, [(7, 'Smith, "Jo"\r\nsecond line', None, "1990-01-02 03:04:05"),
                                (8, None, "F", None)])


@unittest.skipIf(pg_server.missing_reason(), pg_server.missing_reason())
@unittest.skipUnless(SYNTHEA_ZIP.exists(), f"{SYNTHEA_ZIP} is missing")
class PostgresLoad(CdmCommand):

    @classmethod
    def setUpClass(cls):
        cls.server = pg_server.PostgresServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.expected = csv_record_counts(SYNTHEA_ZIP)
        cls.loaded_counts = None

    def setUp(self):
        self.writer = self.omcp_env(self.server.environment())
        self.reader = self.omcp_env(self.server.environment(reader=True))
        if not getattr(type(self), "loaded", False):
            completed = self.omcp(self.writer, "cdm", "init")
            self.assertEqual(completed.returncode, 0, completed.stderr)
            completed = self.omcp(self.writer, "cdm", "load", str(SYNTHEA_ZIP))
            self.assertEqual(completed.returncode, 0, completed.stderr)
            type(self).loaded = True
            # Other tests load small files over some tables afterwards.
            type(self).loaded_counts = self.counts()

    def counts(self):
        out = self.server.psql(
            "SELECT table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) "
            "AS c FROM omop_cdm.%I', table_name), false, true, '')))[1]::text FROM "
            "information_schema.tables WHERE table_schema = 'omop_cdm'",
            user=pg_server.READER_ROLE, password=self.server.reader_password)
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.split()}

    def test_counts_match_csv(self):
        counts = self.loaded_counts
        self.assertEqual(len(counts), 39)
        for table, records in self.expected.items():
            self.assertEqual(counts[table], records, table)

    def test_reload_is_idempotent(self):
        completed = self.omcp(self.writer, "cdm", "load", str(SYNTHEA_ZIP))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(self.counts()["concept_relationship"],
                         self.expected["concept_relationship"])

    def test_rows_are_typed_json(self):
        result = dbquery(self.reader, "select",
                         "SELECT p.person_id, p.birth_datetime, m.value_as_number, "
                         "m.measurement_date, p.location_id, count(*) OVER () AS n "
                         "FROM omop_cdm.person p JOIN omop_cdm.measurement m "
                         "ON m.person_id = p.person_id WHERE m.measurement_id = 1;")
        self.assertTrue(result["success"], result)
        self.assertEqual(result["columns"], ["person_id", "birth_datetime", "value_as_number",
                                             "measurement_date", "location_id", "n"])
        self.assertEqual(result["rows"], [[1, "1998-04-09 00:00:00", 48.1, "2013-05-17", None,
                                           1]])

    def test_same_rows_as_sqlite_types(self):
        # Integral aggregates are integers on both backends.
        result = dbquery(self.reader, "select",
                         "SELECT sum(person_id), avg(year_of_birth) > 0 FROM omop_cdm.person")
        self.assertEqual(result["rows"], [[406, True]])

    def test_truncated(self):
        result = dbquery(self.reader, "select", "SELECT person_id FROM omop_cdm.person", "5")
        self.assertEqual(len(result["rows"]), 5)
        self.assertTrue(result["truncated"])

    def test_describe_and_tables(self):
        result = dbquery(self.reader, "describe", "measurement")
        self.assertEqual(result["row_count"], self.expected["measurement"])
        types = {c["name"]: c["type"] for c in result["columns"]}
        self.assertEqual(types["measurement_id"], "bigint")
        self.assertEqual(types["measurement_date"], "date")
        self.assertEqual(types["measurement_datetime"], "timestamp without time zone")
        self.assertEqual(types["value_as_number"], "numeric")
        self.assertEqual(types["measurement_time"], "character varying(10)")
        result = dbquery(self.reader, "tables")
        self.assertEqual(result["schemas"][0]["schema"], "omop_cdm")
        self.assertEqual(len(result["schemas"][0]["tables"]), 39)

    def test_timeout(self):
        env = dict(self.reader, QUERY_TIMEOUT_MS="300")
        result = dbquery(env, "select",
                         "SELECT count(*) FROM omop_cdm.concept_relationship a, "
                         "omop_cdm.concept_relationship b")
        self.assertFalse(result["success"])
        self.assertEqual(result["errnum"], errno.ETIMEDOUT)
        self.assertEqual(result["error"], "Query timed out after 300 ms")

    def test_read_only_role_cannot_write(self):
        result = dbquery(self.reader, "select", "DELETE FROM omop_cdm.person")
        self.assertEqual(result["errnum"], errno.EACCES)
        # Even as the superuser, the read-only connection cannot write.
        result = dbquery(self.writer, "select", "DELETE FROM omop_cdm.person")
        self.assertEqual(result["errnum"], errno.EACCES)
        self.assertEqual(self.counts()["person"], 28)

    def test_unreachable_server(self):
        env = dict(self.reader, DB_HOST=os.path.join(self.server.socket_dir, "absent"))
        result = dbquery(env, "select", "SELECT 1")
        self.assertFalse(result["success"])
        self.assertEqual(result["errnum"], errno.ECONNREFUSED)
        self.assertIn("is not reachable", result["error"])
        self.assertNotIn(self.server.reader_password, result["error"])
        completed = self.omcp(env, "cdm", "load", str(SYNTHEA_ZIP))
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("is not reachable", completed.stderr)
        self.assertNotIn(self.server.reader_password, completed.stderr)

    def test_wrong_password(self):
        env = dict(self.reader, DB_PASSWORD="wrong")
        result = dbquery(env, "select", "SELECT 1")
        self.assertEqual(result["errnum"], errno.ECONNREFUSED)
        self.assertIn("password authentication failed", result["error"])

    def test_bad_file_rolls_back(self):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        header = ("person_id,gender_concept_id,year_of_birth,race_concept_id,"
                  "ethnicity_concept_id,person_source_value\n")
        with open(os.path.join(directory, "Person.csv"), "w") as f:
            f.write(header + "1,8507,1990,0,0,a\tb\\c\n" + "2,8532,19x1,0,0,\n")
        completed = self.omcp(self.writer, "cdm", "load", directory)
        self.assert_load_failed(completed, "Person.csv:3: column year_of_birth: '19x1' is not an "
                                           "integer")
        self.assertEqual(self.counts()["person"], 28)

    def test_duplicate_key_reported_at_its_line(self):
        # Only the server finds this one, at the end of COPY.
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        with open(os.path.join(directory, "death.csv"), "w") as f:
            f.write("person_id,death_date\n1,2020-01-01\n2,2020-01-02\n")
        with open(os.path.join(directory, "location.csv"), "w") as f:
            # A field over lines 2 and 3 and a blank line 5 put the
            # duplicate on line 6.
            f.write('location_id,city\n1,"A\nA"\n2,B\n\n1,C\n')
        before = self.counts()
        completed = self.omcp(self.writer, "cdm", "load", directory)
        self.assert_load_failed(completed, "location.csv:6:", "duplicate key")
        after = self.counts()
        self.assertEqual(after["location"], before["location"])
        self.assertEqual(after["death"], 2)

    def test_copy_escapes_special_characters(self):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        value = 'tab\there, back\\slash, "quote", new\nline, \\N'
        with open(os.path.join(directory, "care_site.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["care_site_id", "care_site_name", "care_site_source_value"])
            writer.writerow([1, value, ""])
            writer.writerow([2, "", '""'])
        completed = self.omcp(self.writer, "cdm", "load", directory)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        result = dbquery(self.reader, "select",
                         "SELECT care_site_id, care_site_name, care_site_source_value "
                         "FROM omop_cdm.care_site ORDER BY 1")
        self.assertEqual(result["rows"], [[1, value, None], [2, None, '""']])

    def test_text_larger_than_copy_buffer(self):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        text = ("x\\y\t" * 100000)[:400000]
        with open(os.path.join(directory, "note.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["note_id", "person_id", "note_date", "note_type_concept_id",
                             "note_class_concept_id", "note_title", "note_text",
                             "encoding_concept_id", "language_concept_id"])
            writer.writerow([1, 1, "2020-01-01", 0, 0, "big", text, 0, 0])
            writer.writerow([2, 1, "2020-01-02", 0, 0, "small", "s", 0, 0])
        completed = self.omcp(self.writer, "cdm", "load", directory)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        out = self.server.psql("SELECT length(note_text), md5(note_text) FROM omop_cdm.note "
                               "ORDER BY note_id")
        self.assertEqual(out.split(), [f"{len(text)}|{hashlib.md5(text.encode()).hexdigest()}",
                                       "1|03c7c0ace395d80182db07ae2c30f034"])


@unittest.skipIf(omcp_client.skip_reason(need_root=True), omcp_client.skip_reason(need_root=True))
@unittest.skipUnless(SYNTHEA_ZIP.exists(), f"{SYNTHEA_ZIP} is missing")
class AdminTools(omcp_client.ServerTestCase):

    ADMIN_TOOLS = ("create_omop_schema", "load_omop_csv")

    def server_env(self, **extra):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        env = {"DB_BACKEND": "sqlite", "DB_PATH": os.path.join(directory, "cdm.sqlite")}
        env.update(extra)
        return env

    def tool_names(self, server):
        return {tool["name"] for tool in server.result("tools/list")["tools"]}

    def test_not_listed_by_default(self):
        server = self.start_server(env=self.server_env())
        names = self.tool_names(server)
        for name in self.ADMIN_TOOLS:
            self.assertNotIn(name, names)
        self.assertIn("ping", names)

    def test_create_and_load_with_progress(self):
        server = self.start_server(env=self.server_env(OMCP_ADMIN_TOOLS="true"))
        names = self.tool_names(server)
        for name in self.ADMIN_TOOLS:
            self.assertIn(name, names)

        result = server.call_tool("create_omop_schema")
        self.assertTrue(result["success"], result)
        self.assertEqual(result["tables"], 39)

        result = server.call_tool("load_omop_csv", {"path": str(SYNTHEA_ZIP)},
                                  meta={"progressToken": "load-1"})
        self.assertTrue(result["success"], result)
        expected = csv_record_counts(SYNTHEA_ZIP)
        self.assertEqual(result["rows_loaded"], sum(expected.values()))
        self.assertEqual(result["files_failed"], 0)
        self.assertEqual(result["rejected"], [])
        loaded = {entry["table"]: entry["rows"] for entry in result["tables"]}
        self.assertEqual(loaded, expected)

        progress = [m for _, m in server.notifications_of("notifications/progress")
                    if m["params"].get("progressToken") == "load-1"]
        self.assertTrue(progress, "load_omop_csv sent no progress")
        self.assertTrue(any("concept_relationship" in m["params"].get("message", "")
                            for m in progress))
        values = [m["params"]["progress"] for m in progress]
        self.assertEqual(values, sorted(values), "progress went backwards")

        # The read-only query tools see what the admin connection wrote.
        result = server.call_tool("describe_table", {"table_name": "person"})
        self.assertEqual(result["row_count"], 28)

    def test_load_reports_rejected_rows(self):
        server = self.start_server(env=self.server_env(OMCP_ADMIN_TOOLS="true"))
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        with open(os.path.join(directory, "death.csv"), "w") as f:
            f.write("person_id,death_date\n1,2020-01-01\n2,yesterday\n")
        result = server.call_tool("load_omop_csv", {"path": directory})
        self.assertFalse(result["success"])
        self.assertEqual(result["files_failed"], 1)
        self.assertEqual(result["rows_rejected"], 1)
        self.assertEqual(result["rejected"][0]["file"], "death.csv")
        self.assertEqual(result["rejected"][0]["line"], 3)
        self.assertIn("'yesterday' is not a valid date", result["rejected"][0]["reason"])
        self.assertIn("death.csv", result["error"])
        result = server.call_tool("Select_Query",
                                  {"query": "SELECT count(*) FROM omop_cdm.death"})
        self.assertEqual(result["rows"], [[0]])

    def test_missing_path_reported(self):
        server = self.start_server(env=self.server_env(OMCP_ADMIN_TOOLS="true"))
        result = server.call_tool("load_omop_csv", {"path": "/nonexistent/cdm"})
        self.assertFalse(result["success"])
        self.assertIn("/nonexistent/cdm", result["error"])


if __name__ == "__main__":
    omcp_client.main(need_root=False)
