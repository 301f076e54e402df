#!/usr/bin/python3
"""Tests of data access from sandboxes: the omop module and
analyze_omop_data on SQLite and on a real PostgreSQL server started here,
the read-only binds, the absence of network, and where the database
credentials may and may not appear."""

import errno
import hashlib
import json
import os
import pathlib
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import textwrap
import time
import unittest
import zipfile

import omcp_client
import pg_server
from omcp_client import ServerTestCase

try:
    import psycopg2
except ImportError:
    psycopg2 = None

SYNTHEA_ZIP = omcp_client.find_synthea_zip()

ANALYSIS_TYPES = ("basic", "demographics", "conditions", "drugs", "measurements", "visits")

# A small CDM written identically into both backends. Types follow the
# product's DDL: dates are ISO text on SQLite and date or timestamp on
# PostgreSQL, floating-point values REAL and numeric.
TABLES = {
    "person": [
        ("person_id", "INTEGER", "bigint"),
        ("gender_concept_id", "INTEGER", "bigint"),
        ("year_of_birth", "INTEGER", "integer"),
        ("birth_datetime", "TEXT", "timestamp"),
        ("race_concept_id", "INTEGER", "bigint"),
        ("ethnicity_concept_id", "INTEGER", "bigint"),
        ("person_source_value", "TEXT", "varchar(50)"),
    ],
    "concept": [
        ("concept_id", "INTEGER", "bigint"),
        ("concept_name", "TEXT", "varchar(255)"),
        ("domain_id", "TEXT", "varchar(20)"),
        ("valid_start_date", "TEXT", "date"),
        ("valid_end_date", "TEXT", "date"),
    ],
    "condition_occurrence": [
        ("condition_occurrence_id", "INTEGER", "bigint"),
        ("person_id", "INTEGER", "bigint"),
        ("condition_concept_id", "INTEGER", "bigint"),
        ("condition_start_date", "TEXT", "date"),
    ],
    "drug_exposure": [
        ("drug_exposure_id", "INTEGER", "bigint"),
        ("person_id", "INTEGER", "bigint"),
        ("drug_concept_id", "INTEGER", "bigint"),
        ("drug_exposure_start_date", "TEXT", "date"),
    ],
    "measurement": [
        ("measurement_id", "INTEGER", "bigint"),
        ("person_id", "INTEGER", "bigint"),
        ("measurement_concept_id", "INTEGER", "bigint"),
        ("measurement_date", "TEXT", "date"),
        ("value_as_number", "REAL", "numeric"),
    ],
    "visit_occurrence": [
        ("visit_occurrence_id", "INTEGER", "bigint"),
        ("person_id", "INTEGER", "bigint"),
        ("visit_concept_id", "INTEGER", "bigint"),
        ("visit_start_date", "TEXT", "date"),
    ],
}

CONCEPTS = [
    (8507, "MALE", "Gender"), (8532, "FEMALE", "Gender"), (8527, "White", "Race"),
    (8516, "Black or African American", "Race"), (38003564, "Not Hispanic or Latino", "Ethnicity"),
    (38003563, "Hispanic or Latino", "Ethnicity"), (320128, "Essential hypertension", "Condition"),
    (201826, "Type 2 diabetes mellitus", "Condition"), (1112807, "Aspirin", "Drug"),
    (1503297, "Metformin", "Drug"), (3004249, "Systolic blood pressure", "Measurement"),
    (3025315, "Body weight", "Measurement"), (9201, "Inpatient Visit", "Visit"),
    (9202, "Outpatient Visit", "Visit"), (42, "100% 'quoted' name", "Test"),
]


def sample_rows():
    """Return {table: rows}, deterministic, with ties and NULLs on purpose."""
    rows = {"concept": [(cid, name, domain, "1970-01-01", "2099-12-31")
                        for cid, name, domain in CONCEPTS]}
    persons = []
    for pid in range(1, 13):
        persons.append((pid, 8507 if pid % 3 else 8532, 1940 + pid * 5,
                        None if pid % 4 == 0 else f"{1940 + pid * 5}-0{1 + pid % 9}-1{pid % 10} 08:30:00",
                        8527 if pid % 2 else 8516, 38003564 if pid % 5 else 38003563,
                        f"p{pid:03d}"))
    # A race concept missing from the vocabulary.
    persons.append((13, 8532, 1999, "1999-12-31T23:59:59", 99999, 0, None))
    rows["person"] = persons
    conditions, drugs, measurements, visits = [], [], [], []
    for n in range(1, 41):
        pid = 1 + n % 13
        conditions.append((n, pid, (320128, 201826, 0)[n % 3], f"2020-0{1 + n % 9}-1{n % 10}"))
        drugs.append((n, pid, (1112807, 1503297)[n % 2], f"2021-0{1 + n % 9}-2{n % 8}"))
        measurements.append((n, pid, (3004249, 3025315)[n % 2], f"2022-1{n % 3}-0{1 + n % 9}",
                             None if n % 7 == 0 else 100.0 + n * 1.25))
        visits.append((n, pid, (9201, 9202)[n % 2], f"2019-0{1 + n % 9}-0{1 + n % 9}"))
    rows["condition_occurrence"] = conditions
    rows["drug_exposure"] = drugs
    rows["measurement"] = measurements
    rows["visit_occurrence"] = visits
    return rows


def write_sqlite_cdm(path):
    """Write the sample CDM into the SQLite file PATH, readable by all."""
    connection = sqlite3.connect(path)
    for table, columns in TABLES.items():
        connection.execute(f"CREATE TABLE {table} ("
                           + ", ".join(f"{name} {lite}" for name, lite, _ in columns)
                           + f", PRIMARY KEY ({columns[0][0]}))")
        marks = ", ".join("?" for _ in columns)
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", sample_rows()[table])
    connection.commit()
    connection.close()
    os.chmod(path, 0o644)


class SampleServer:
    """The test PostgreSQL server (pg_server: a Unix socket in a temporary
    directory, no TCP) holding the sample CDM."""

    def __init__(self):
        self.server = pg_server.PostgresServer().start()
        self.socket_dir = self.server.socket_dir
        self.reader_password = self.server.reader_password

    def connect_owner(self):
        return psycopg2.connect(host=self.socket_dir, port=pg_server.PORT,
                                dbname=pg_server.DATABASE, user=self.server.superuser,
                                password=self.server.superuser_password)

    def write_sample_cdm(self):
        connection = self.connect_owner()
        with connection, connection.cursor() as cursor:
            for table, columns in TABLES.items():
                cursor.execute(f"CREATE TABLE {pg_server.SCHEMA}.{table} ("
                               + ", ".join(f"{name} {pg}" for name, _, pg in columns)
                               + f", PRIMARY KEY ({columns[0][0]}))")
                marks = ", ".join("%s" for _ in columns)
                cursor.executemany(f"INSERT INTO {pg_server.SCHEMA}.{table} VALUES ({marks})",
                                   sample_rows()[table])
            # A second CDM schema with another name and two persons.
            cursor.execute("CREATE SCHEMA cdm_other")
            cursor.execute("CREATE TABLE cdm_other.person AS SELECT * FROM "
                           f"{pg_server.SCHEMA}.person WHERE person_id <= 2")
            cursor.execute(f"GRANT USAGE ON SCHEMA cdm_other TO {pg_server.READER_ROLE}; "
                           f"GRANT SELECT ON cdm_other.person TO {pg_server.READER_ROLE}")
        connection.close()

    def server_env(self, password=None):
        """The DB_* variables of omcp as the read-only role."""
        env = self.server.environment(reader=True)
        if password is not None:
            env["DB_PASSWORD"] = password
        return env

    def stop(self):
        self.server.stop()


def postgres_missing():
    """Return why a PostgreSQL server cannot be started here, or None."""
    if psycopg2 is None:
        return "python3-psycopg2 is not installed"
    return pg_server.missing_reason()


# Code run in sandboxes. Each prints one JSON document last.

QUERIES_CODE = textwrap.dedent("""
    import json, omop
    def show(frame):
        return {"columns": list(frame.columns), "dtypes": [str(t) for t in frame.dtypes],
                "rows": json.loads(frame.to_json(orient="values", date_format="iso"))}
    out = {"backend": omop.backend(), "tables": omop.tables()}
    out["by_gender"] = show(omop.query(
        "SELECT gender_concept_id, COUNT(*) AS persons FROM omop_cdm.person "
        "GROUP BY gender_concept_id ORDER BY gender_concept_id"))
    out["positional"] = show(omop.query(
        "SELECT person_id, birth_datetime FROM omop_cdm.person "
        "WHERE year_of_birth > ? AND person_source_value LIKE 'p%' ORDER BY person_id", [1980]))
    out["named"] = show(omop.query(
        "SELECT concept_name, valid_start_date FROM omop_cdm.concept "
        "WHERE concept_id = :id OR concept_name = :name ORDER BY concept_id",
        {"id": 8507, "name": "100% 'quoted' name"}))
    out["numbers"] = show(omop.query(
        "SELECT measurement_id, value_as_number, measurement_date FROM omop_cdm.measurement "
        "WHERE measurement_id <= 8 ORDER BY measurement_id"))
    out["unqualified"] = show(omop.query("SELECT COUNT(*) AS n FROM person"))
    out["table"] = show(omop.table("person", columns=["person_id", "year_of_birth"], limit=3))
    out["table_all"] = show(omop.table("visit_occurrence"))
    out["concept_name"] = [omop.concept_name(8507), omop.concept_name(42),
                           omop.concept_name(123456789)]
    errors = {}
    for name, call in [("table", lambda: omop.table("person; DROP TABLE person")),
                       ("unknown_table", lambda: omop.table("not_a_table")),
                       ("column", lambda: omop.table("person", columns=["x\\" FROM y"])),
                       ("limit", lambda: omop.table("person", limit=-1)),
                       ("concept", lambda: omop.concept_name("8507 OR 1=1")),
                       ("sql", lambda: omop.query("SELECT nope FROM omop_cdm.person"))]:
        try:
            call()
            errors[name] = None
        except (ValueError, omop.Error) as error:
            errors[name] = type(error).__name__ + ": " + str(error)
    out["errors"] = errors
    print(json.dumps(out))
""")

# Attempts to change the database from a sandbox. Each records the error it
# met, or "CHANGED" when it succeeded.
WRITE_ATTEMPTS_CODE = textwrap.dedent("""
    import json, os, omop
    attempts = {}
    def attempt(name, fn):
        try:
            fn()
            attempts[name] = "CHANGED"
        except Exception as error:
            attempts[name] = type(error).__name__ + ": " + str(error).strip().splitlines()[0]
    if omop.backend() == "sqlite":
        import sqlite3
        path = os.environ["OMOP_DB_PATH"]
        def direct(sql, uri=False):
            connection = sqlite3.connect(path if not uri else "file:" + path + "?mode=rw",
                                         uri=uri)
            connection.execute(sql)
            connection.commit()
        attempt("open_for_writing", lambda: open(path, "r+b"))
        attempt("insert", lambda: direct("INSERT INTO person (person_id, gender_concept_id, "
                "year_of_birth, race_concept_id, ethnicity_concept_id) VALUES (999, 0, 2000, 0, 0)"))
        attempt("update", lambda: direct("UPDATE person SET year_of_birth = 1"))
        attempt("drop", lambda: direct("DROP TABLE concept", uri=True))
        attempt("module_update", lambda: omop.query("UPDATE omop_cdm.person SET year_of_birth = 1"))
        attempt("chmod", lambda: os.chmod(path, 0o666))
        attempt("truncate", lambda: os.truncate(path, 0))
        mounts = [line.split() for line in open("/proc/self/mountinfo")]
        attempts["mount_options"] = [m[5] for m in mounts if m[4] == path]
    else:
        import psycopg2
        def direct(sql, read_only_off=False):
            connection = psycopg2.connect(
                host=os.environ["OMOP_DB_HOST"], port=os.environ["OMOP_DB_PORT"],
                dbname=os.environ["OMOP_DB_NAME"], user=os.environ["OMOP_DB_USER"],
                password=os.environ["OMOP_DB_PASSWORD"])
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SET search_path TO " + os.environ["OMOP_DB_SCHEMA"])
                if read_only_off:
                    cursor.execute("SET default_transaction_read_only = off")
                cursor.execute(sql)
            connection.close()
        attempt("module_insert", lambda: omop.query(
            "INSERT INTO omop_cdm.person (person_id, gender_concept_id, year_of_birth, "
            "race_concept_id, ethnicity_concept_id) VALUES (999, 0, 2000, 0, 0)"))
        attempt("module_update_read_write_session", lambda: (omop.query(
            "SELECT set_config('default_transaction_read_only', 'off', false) AS x"),
            omop.query("UPDATE omop_cdm.person SET year_of_birth = 1")))
        for off in (False, True):
            suffix = "_read_write_session" if off else ""
            attempt("insert" + suffix, lambda: direct("INSERT INTO person (person_id, "
                    "gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id) "
                    "VALUES (999, 0, 2000, 0, 0)", off))
            attempt("update" + suffix, lambda: direct("UPDATE person SET year_of_birth = 1", off))
            attempt("delete" + suffix, lambda: direct("DELETE FROM concept", off))
            attempt("drop" + suffix, lambda: direct("DROP TABLE concept", off))
            attempt("create" + suffix, lambda: direct("CREATE TABLE omop_cdm.x (a int)", off))
            attempt("copy_from" + suffix, lambda: direct(
                "COPY person FROM '/etc/passwd'", off))
            attempt("copy_to" + suffix, lambda: direct(
                "COPY person TO '/tmp/omcp-sandbox-copy'", off))
        socket_dir = os.environ["OMOP_DB_HOST"]
        attempt("create_file_in_socket_dir", lambda: open(socket_dir + "/x", "w"))
        mounts = [line.split() for line in open("/proc/self/mountinfo")]
        attempts["mount_options"] = [m[5] for m in mounts if m[4] == socket_dir]
    print(json.dumps(attempts))
""")

NETWORK_CODE = textwrap.dedent("""
    import json, socket
    out = {}
    for name, family in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6)):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(("127.0.0.1" if family == socket.AF_INET else "::1", 5432))
            out[name] = "connected"
        except OSError as error:
            out[name] = error.errno
    print(json.dumps(out))
""")


def load_omop_module():
    """Import python/omop.py from the source tree, as the bootstrap would."""
    source = omcp_client.REPO_ROOT / "python" / "omop.py"
    namespace = {"__name__": "omop"}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    return namespace


class PlaceholderTranslationTest(unittest.TestCase):
    """The rewrite of ? and :name placeholders for psycopg2."""

    def translate(self, sql, named=False, schema="omop_cdm"):
        return load_omop_module()["_translate_postgresql"](sql, named, schema)

    def test_positional(self):
        self.assertEqual(self.translate("SELECT a FROM t WHERE b = ? AND c LIKE 'x?%' AND d = ?"),
                         "SELECT a FROM t WHERE b = %s AND c LIKE 'x?%%' AND d = %s")

    def test_named_and_casts(self):
        self.assertEqual(self.translate("SELECT x::int, y FROM t WHERE a = :a_1 AND b = :b",
                                        named=True),
                         "SELECT x::int, y FROM t WHERE a = %(a_1)s AND b = %(b)s")

    def test_percent_outside_strings(self):
        self.assertEqual(self.translate("SELECT a % 2, '100%' FROM t"),
                         "SELECT a %% 2, '100%%' FROM t")

    def test_quotes_and_comments_kept(self):
        self.assertEqual(self.translate("SELECT 'it''s ?', \"we?ird\" -- why?\nFROM t /* ? */"),
                         "SELECT 'it''s ?', \"we?ird\" -- why?\nFROM t /* ? */")

    def test_schema_renamed(self):
        self.assertEqual(self.translate("SELECT * FROM omop_cdm.person p JOIN OMOP_CDM.concept c "
                                        "ON 'omop_cdm.x' = omop_cdm_y.z", schema="cdm"),
                         "SELECT * FROM \"cdm\".person p JOIN \"cdm\".concept c "
                         "ON 'omop_cdm.x' = omop_cdm_y.z")

    def test_parameters_of_other_types(self):
        module = load_omop_module()
        self.assertEqual(module["_bind"]([1, "a"]), ([1, "a"], False))
        self.assertEqual(module["_bind"]({"a": 1}), ({"a": 1}, True))
        with self.assertRaises(TypeError):
            module["_bind"]("SELECT")


class DataAccessCase(ServerTestCase):
    """Shared checks, run against one backend by each subclass."""

    def queries(self, server):
        sandbox_id = self.new_sandbox(server)
        return self.run_json(server, sandbox_id, QUERIES_CODE)

    def analyses(self, server):
        sandbox_id = self.new_sandbox(server)
        out = {}
        for analysis_type in ANALYSIS_TYPES:
            result = server.call_tool("analyze_omop_data", {"sandbox_id": sandbox_id,
                                                            "analysis_type": analysis_type})
            self.assertIs(result.get("success"), True, f"{analysis_type}: {result!r}")
            self.assertEqual(result["analysis_type"], analysis_type)
            out[analysis_type] = result["result"]
        return out

    def check_sample_queries(self, out):
        self.assertEqual(out["tables"], sorted(TABLES))
        self.assertEqual(out["by_gender"]["rows"], [[8507, 8], [8532, 5]])
        self.assertEqual(out["positional"]["columns"], ["person_id", "birth_datetime"])
        self.assertEqual(out["positional"]["dtypes"], ["int64", "datetime64[ns]"])
        self.assertEqual(out["positional"]["rows"][0], [9, "1985-01-19T08:30:00.000"])
        self.assertEqual(out["positional"]["rows"][2], [11, "1995-03-11T08:30:00.000"])
        self.assertIsNone(out["positional"]["rows"][3][1])
        self.assertEqual(out["named"]["rows"], [[ "100% 'quoted' name",
                                                  "1970-01-01T00:00:00.000"],
                                                ["MALE", "1970-01-01T00:00:00.000"]])
        self.assertEqual(out["numbers"]["dtypes"], ["int64", "float64", "datetime64[ns]"])
        self.assertEqual(out["numbers"]["rows"][0], [1, 101.25, "2022-11-02T00:00:00.000"])
        self.assertIsNone(out["numbers"]["rows"][6][1])
        self.assertEqual(out["unqualified"]["rows"], [[13]])
        self.assertEqual(out["table"]["rows"], [[1, 1945], [2, 1950], [3, 1955]])
        self.assertEqual(len(out["table_all"]["rows"]), 40)
        self.assertEqual(out["concept_name"], ["MALE", "100% 'quoted' name", None])
        for name, message in out["errors"].items():
            self.assertIsNotNone(message, f"omop call {name} should have failed")
        self.assertIn("Invalid table name", out["errors"]["table"])
        self.assertIn("Invalid table name", out["errors"]["unknown_table"])
        self.assertIn("Invalid column name", out["errors"]["column"])
        self.assertIn("limit", out["errors"]["limit"])
        self.assertIn("concept_id must be an integer", out["errors"]["concept"])
        self.assertTrue(out["errors"]["sql"].startswith("Error: Query failed"))

    def check_sample_analyses(self, out):
        self.assertEqual(out["basic"]["tables"], {"person": 13, "concept": 15,
                                                  "condition_occurrence": 40,
                                                  "drug_exposure": 40, "measurement": 40,
                                                  "visit_occurrence": 40})
        demographics = out["demographics"]
        self.assertEqual(demographics["persons"], 13)
        self.assertEqual(demographics["gender"], [
            {"concept_id": 8507, "concept_name": "MALE", "persons": 8},
            {"concept_id": 8532, "concept_name": "FEMALE", "persons": 5}])
        # Equal counts: the tie goes to the lower concept id. A concept
        # missing from the vocabulary has no name.
        self.assertEqual(demographics["race"], [
            {"concept_id": 8516, "concept_name": "Black or African American", "persons": 6},
            {"concept_id": 8527, "concept_name": "White", "persons": 6},
            {"concept_id": 99999, "concept_name": None, "persons": 1}])
        self.assertEqual([(d["decade"], d["persons"])
                          for d in demographics["year_of_birth_decade"]],
                         [(1940, 1), (1950, 2), (1960, 2), (1970, 2), (1980, 2), (1990, 3),
                          (2000, 1)])
        conditions = out["conditions"]
        self.assertEqual(conditions["records"], 40)
        self.assertEqual([(c["concept_id"], c["persons"], c["records"])
                          for c in conditions["top_concepts"]],
                         [(201826, 13, 14), (0, 13, 13), (320128, 13, 13)])
        self.assertEqual(conditions["top_concepts"][0]["concept_name"],
                         "Type 2 diabetes mellitus")
        self.assertEqual([(c["concept_id"], c["persons"], c["records"])
                          for c in out["visits"]["top_concepts"]],
                         [(9201, 13, 20), (9202, 13, 20)])


@unittest.skipIf(omcp_client.skip_reason(), omcp_client.skip_reason())
class SqliteDataTest(DataAccessCase):
    """SQLite: the CDM file bound read-only at /omop/cdm.sqlite."""

    def setUp(self):
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="omcp-sqlite-"))
        self.addCleanup(shutil.rmtree, self.workdir, True)
        os.chmod(self.workdir, 0o755)
        self.db_path = self.workdir / "cdm.sqlite"
        write_sqlite_cdm(self.db_path)
        # A secret next to the database, which sandboxes must not see.
        (self.workdir / ".env").write_text("DB_PASSWORD=env-file-" + secrets.token_hex(8) + "\n")
        os.chmod(self.workdir / ".env", 0o644)

    def start(self, **env):
        return self.start_server(env={"DB_BACKEND": "sqlite", "DB_PATH": "cdm.sqlite", **env},
                                 cwd=self.workdir)

    def test_queries_and_analyses(self):
        server = self.start()
        self.check_sample_queries(self.queries(server))
        self.check_sample_analyses(self.analyses(server))

    def test_database_not_writable(self):
        server = self.start()
        before = hashlib.sha256(self.db_path.read_bytes()).hexdigest()
        sandbox_id = self.new_sandbox(server)
        attempts = self.run_json(server, sandbox_id, WRITE_ATTEMPTS_CODE)
        for name, outcome in attempts.items():
            if name != "mount_options":
                self.assertNotEqual(outcome, "CHANGED", f"{name} changed the database")
        self.assertEqual(len(attempts["mount_options"]), 1, attempts)
        self.assertIn("ro", attempts["mount_options"][0].split(","))
        self.assertEqual(hashlib.sha256(self.db_path.read_bytes()).hexdigest(), before)

    def test_only_the_file_is_bound(self):
        server = self.start()
        sandbox_id = self.new_sandbox(server)
        out = self.run_json(server, sandbox_id, textwrap.dedent(f"""
            import json, os
            found = []
            for top in ("/omop", "/sandbox", "/tmp", "/etc"):
                for directory, _, files in os.walk(top):
                    found += [os.path.join(directory, name) for name in files]
            print(json.dumps({{"omop": sorted(os.listdir("/omop")),
                              "env_files": [p for p in found if p.endswith(".env")],
                              "workdir": os.path.exists({str(self.workdir)!r})}}))
        """))
        self.assertEqual(out, {"omop": ["cdm.sqlite"], "env_files": [], "workdir": False})

    def test_no_network(self):
        server = self.start()
        sandbox_id = self.new_sandbox(server)
        out = self.run_json(server, sandbox_id, NETWORK_CODE)
        self.assertEqual(out, {"inet": 1, "inet6": 1}, "AF_INET sockets must fail with EPERM")

    def test_in_place_write_reaches_sandbox(self):
        # The bind keeps the file's inode, so loaders must write in place.
        server = self.start()
        sandbox_id = self.new_sandbox(server)
        count = "import omop\nprint(int(omop.query('SELECT COUNT(*) AS n FROM omop_cdm.concept')['n'][0]))"
        self.assertEqual(self.run_ok(server, sandbox_id, count)["output"].strip(), "15")
        connection = sqlite3.connect(self.db_path)
        connection.execute("INSERT INTO concept VALUES (7, 'New', 'Test', '2000-01-01', "
                           "'2099-12-31')")
        connection.commit()
        connection.close()
        self.assertEqual(self.run_ok(server, sandbox_id, count)["output"].strip(), "16")

        # A file replaced by rename reaches only sandboxes created afterwards.
        replacement = self.workdir / "new.sqlite"
        shutil.copy(self.db_path, replacement)
        connection = sqlite3.connect(replacement)
        connection.execute("DELETE FROM concept WHERE concept_id = 7")
        connection.commit()
        connection.close()
        os.chmod(replacement, 0o644)
        os.rename(replacement, self.db_path)
        self.assertEqual(self.run_ok(server, sandbox_id, count)["output"].strip(), "16")
        later = self.new_sandbox(server)
        self.assertEqual(self.run_ok(server, later, count)["output"].strip(), "15")

    def test_missing_database(self):
        self.db_path.unlink()
        server = self.start()
        self.assertIn("does not exist yet", server.stderr_text())
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id, "import omop\nomop.query('SELECT 1 AS x')")
        self.assertEqual(result["exit_code"], 1)
        self.assertIn("omop.Error: No CDM database is loaded", result["error"])
        analysis = server.call_tool("analyze_omop_data", {"sandbox_id": sandbox_id})
        self.assertIs(analysis["success"], False)
        self.assertIn("No CDM database is loaded", analysis["error"])
        # The sandbox tools still work, and a sandbox created once the file
        # exists sees it.
        self.assertEqual(self.run_ok(server, sandbox_id, "print(6 * 7)")["output"], "42\n")
        write_sqlite_cdm(self.db_path)
        later = self.new_sandbox(server)
        self.assertEqual(self.run_json(server, later, "import omop, json\n"
                                       "print(json.dumps(omop.tables()))"), sorted(TABLES))

    def test_wal_database_is_read(self):
        connection = sqlite3.connect(self.db_path)
        self.assertEqual(connection.execute("PRAGMA journal_mode = WAL").fetchone(), ("wal",))
        connection.close()
        server = self.start()
        self.assertIn("is in WAL mode", server.stderr_text())
        sandbox_id = self.new_sandbox(server)
        self.assertEqual(self.run_json(server, sandbox_id, "import omop\n"
                                       "print(int(omop.query('SELECT COUNT(*) AS n "
                                       "FROM omop_cdm.concept')['n'][0]))"), 15)

    def test_directory_is_never_bound(self):
        self.db_path.unlink()
        self.db_path.mkdir()
        server = self.start()
        self.assertIn("is not a regular file", server.stderr_text())
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id, "import os\nprint(os.path.exists('/omop'))")
        self.assertEqual(result["output"], "False\n")

    def test_unknown_analysis_type(self):
        server = self.start()
        sandbox_id = self.new_sandbox(server)
        result = server.call_tool("analyze_omop_data", {"sandbox_id": sandbox_id,
                                                        "analysis_type": "mortality"})
        self.assertIs(result["success"], False)
        self.assertEqual(result["error"], "Unknown analysis_type 'mortality'. Valid types: "
                         "basic, demographics, conditions, drugs, measurements, visits")
        default = server.call_tool("analyze_omop_data", {"sandbox_id": sandbox_id})
        self.assertEqual(default["analysis_type"], "basic")
        missing = server.call_tool("analyze_omop_data", {"sandbox_id": "not-a-sandbox"})
        self.assertIs(missing["success"], False)
        self.assertIn("not found", missing["error"])

    def test_module_cannot_be_shadowed(self):
        server = self.start()
        sandbox_id = self.new_sandbox(server)
        self.run_ok(server, sandbox_id, textwrap.dedent("""
            import os
            os.makedirs("/sandbox/packages", exist_ok=True)
            with open("/sandbox/packages/omop.py", "w") as f:
                f.write("def query(*a, **k):\\n    return 'forged'\\n")
            with open("/sandbox/omop.py", "w") as f:
                f.write("def query(*a, **k):\\n    return 'forged'\\n")
        """))
        out = self.run_json(server, sandbox_id, "import json, omop\n"
                            "print(json.dumps([omop.__spec__.origin, "
                            "int(omop.query('SELECT 1 AS x')['x'][0])]))")
        self.assertEqual(out, ["omcp:omop", 1])
        analysis = server.call_tool("analyze_omop_data", {"sandbox_id": sandbox_id})
        self.assertEqual(analysis["result"]["tables"]["person"], 13)


@unittest.skipIf(omcp_client.skip_reason() or postgres_missing(),
                 omcp_client.skip_reason() or postgres_missing())
class PostgresDataTest(DataAccessCase):
    """PostgreSQL: a server on a Unix socket, its directory bound read-only."""

    @classmethod
    def setUpClass(cls):
        cls.pg = SampleServer()
        cls.addClassCleanup(cls.pg.stop)
        cls.pg.write_sample_cdm()

    def test_queries_and_analyses(self):
        server = self.start_server(env=self.pg.server_env())
        self.check_sample_queries(self.queries(server))
        self.check_sample_analyses(self.analyses(server))

    def test_same_answers_as_sqlite(self):
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="omcp-sqlite-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        write_sqlite_cdm(workdir / "cdm.sqlite")
        lite = self.start_server(env={"DB_BACKEND": "sqlite",
                                      "DB_PATH": str(workdir / "cdm.sqlite")})
        pg = self.start_server(env=self.pg.server_env())
        lite_queries, pg_queries = self.queries(lite), self.queries(pg)
        self.assertEqual(lite_queries.pop("backend"), "sqlite")
        self.assertEqual(pg_queries.pop("backend"), "postgresql")
        # The driver's own error text differs; the kind of error does not.
        lite_sql, pg_sql = lite_queries["errors"].pop("sql"), pg_queries["errors"].pop("sql")
        self.assertTrue(lite_sql.startswith("Error: Query failed (sqlite)"), lite_sql)
        self.assertTrue(pg_sql.startswith("Error: Query failed (postgresql)"), pg_sql)
        self.assertEqual(lite_queries, pg_queries)
        lite_analyses, pg_analyses = self.analyses(lite), self.analyses(pg)
        for analysis in lite_analyses.values():
            analysis.pop("backend")
        for analysis in pg_analyses.values():
            analysis.pop("backend")
        self.assertEqual(lite_analyses, pg_analyses)

    def test_database_not_writable(self):
        server = self.start_server(env=self.pg.server_env())
        sandbox_id = self.new_sandbox(server)
        attempts = self.run_json(server, sandbox_id, WRITE_ATTEMPTS_CODE)
        for name, outcome in attempts.items():
            if name != "mount_options":
                self.assertNotEqual(outcome, "CHANGED", f"{name} changed the database")
        self.assertIn("read-only transaction", attempts["module_insert"])
        self.assertIn("permission denied", attempts["insert_read_write_session"])
        self.assertIn("permission denied", attempts["module_update_read_write_session"])
        self.assertIn("ro", attempts["mount_options"][0].split(","))
        connection = self.pg.connect_owner()
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*), MIN(year_of_birth) FROM omop_cdm.person")
            self.assertEqual(cursor.fetchone(), (13, 1945))
        connection.close()

    def test_other_schema_name(self):
        env = self.pg.server_env()
        env["DB_SCHEMA"] = "cdm_other"
        server = self.start_server(env=env)
        sandbox_id = self.new_sandbox(server)
        out = self.run_json(server, sandbox_id, textwrap.dedent("""
            import json, omop
            print(json.dumps([
                int(omop.query("SELECT COUNT(*) AS n FROM omop_cdm.person")["n"][0]),
                int(omop.query("SELECT COUNT(*) AS n FROM person")["n"][0]),
                omop.query("SELECT 'omop_cdm.person' AS t, \\"omop_cdm\\" AS q FROM "
                           "(SELECT 1 AS omop_cdm) s")[["t", "q"]].values.tolist()[0],
                omop.tables()]))
        """))
        self.assertEqual(out, [2, 2, ["omop_cdm.person", 1], ["person"]])

    def test_no_network(self):
        server = self.start_server(env=self.pg.server_env())
        sandbox_id = self.new_sandbox(server)
        self.assertEqual(self.run_json(server, sandbox_id, NETWORK_CODE), {"inet": 1, "inet6": 1})

    def test_tcp_host_is_out_of_reach(self):
        env = self.pg.server_env()
        env["DB_HOST"] = "127.0.0.1"
        server = self.start_server(env=env)
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id, textwrap.dedent("""
            import os, omop
            print(sorted(k for k in os.environ if k.startswith("OMOP_")))
            omop.query("SELECT 1 AS x")
        """))
        self.assertEqual(result["exit_code"], 1)
        self.assertIn("reached over TCP, and sandboxes have no network", result["error"])
        self.assertEqual(result["output"].strip(), "['OMOP_DB_BACKEND', 'OMOP_DB_HOST', "
                         "'OMOP_DB_NAME', 'OMOP_DB_PORT', 'OMOP_DB_SCHEMA']")
        self.assertEqual(self.run_ok(server, sandbox_id, "print('ok')")["output"], "ok\n")

    def test_directory_without_socket_not_bound(self):
        directory = tempfile.mkdtemp(prefix="omcp-nosocket-")
        self.addCleanup(shutil.rmtree, directory, True)
        os.chmod(directory, 0o755)
        pathlib.Path(directory, "secret.txt").write_text("not for sandboxes\n")
        env = self.pg.server_env()
        env["DB_HOST"] = directory
        server = self.start_server(env=env)
        self.assertIn("has no PostgreSQL socket", server.stderr_text())
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id, textwrap.dedent("""
            import os, omop
            print(os.path.exists("/omop"), "OMOP_DB_PASSWORD" in os.environ)
            omop.query("SELECT 1 AS x")
        """))
        self.assertEqual(result["output"], "False False\n")
        self.assertIn("socket directory was not bound into this sandbox", result["error"])

    def test_wrong_password_is_reported(self):
        server = self.start_server(env=self.pg.server_env(password="wrong-password"))
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id, "import omop\nomop.query('SELECT 1 AS x')")
        self.assertEqual(result["exit_code"], 1)
        self.assertIn("Cannot connect to the CDM database", result["error"])
        self.assertIn("password authentication failed", result["error"])
        self.assertNotIn("wrong-password", result["error"])

    def test_credentials_stay_in_their_execution(self):
        password = self.pg.reader_password
        server = self.start_server(env=self.pg.server_env(), log_level="DEBUG")
        first, second = self.new_sandbox(server), self.new_sandbox(server)

        # The execution's own environment has them, and nothing else does:
        # not the command line, not a file visible in the sandbox.
        inside = self.run_json(server, first, textwrap.dedent(f"""
            import json, os
            secret = os.environ["OMOP_DB_PASSWORD"]
            hits = []
            for top in ("/sandbox", "/tmp", "/etc", "/omop", "/dev/shm"):
                for directory, _, files in os.walk(top):
                    for name in files:
                        path = os.path.join(directory, name)
                        try:
                            with open(path, "rb") as f:
                                if secret.encode() in f.read(1 << 20):
                                    hits.append(path)
                        except OSError:
                            pass
            cmdline = open("/proc/self/cmdline", "rb").read()
            supervisor = {{}}
            for name in ("environ", "cmdline"):
                try:
                    supervisor[name] = secret.encode() in open("/proc/1/" + name, "rb").read()
                except OSError as error:
                    supervisor[name] = error.errno
            print(json.dumps({{"hits": hits, "cmdline": secret.encode() in cmdline,
                              "supervisor": supervisor, "matches": secret == {password!r}}}))
        """))
        self.assertEqual(inside, {"hits": [], "cmdline": False,
                                  "supervisor": {"environ": errno.EACCES, "cmdline": False},
                                  "matches": True})

        # A daemon left behind by one execution would read the next
        # execution's environment; executions kill every process they start.
        marker = omcp_client.unique_marker()
        started = self.run_ok(server, first, textwrap.dedent(f"""
            import os, subprocess, sys
            code = '''
            import os, sys, time
            own = set(os.listdir("/proc"))
            open("/sandbox/daemon-started", "w").close()
            for _ in range(400):
                for pid in os.listdir("/proc"):
                    if pid.isdigit() and pid not in own:
                        try:
                            data = open("/proc/" + pid + "/environ", "rb").read()
                        except OSError:
                            continue
                        if b"OMOP_DB_PASSWORD" in data:
                            open("/sandbox/leak", "a").write(pid + chr(10))
                time.sleep(0.02)
            '''
            subprocess.Popen([sys.executable, "-c", "import textwrap; exec(textwrap.dedent(" +
                              repr(code) + "))", {omcp_client.marker_literal(marker)}],
                             start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            import time; time.sleep(0.5)
            print("daemon started" if os.path.exists("/sandbox/daemon-started") else "no daemon")
        """))
        self.assertEqual(started["output"], "daemon started\n")
        self.assert_no_processes(marker, "after the execution that started the daemon")
        self.run_ok(server, first, "import time, omop\nomop.query('SELECT 1 AS x')\n"
                    "time.sleep(1.5)")
        self.assertEqual(self.run_ok(server, first, "import os\n"
                                     "print(os.path.exists('/sandbox/leak'))")["output"],
                         "False\n")

        # None of this sandbox's processes is visible in another sandbox.
        running = server.start_tool_call("execute_python_code", {
            "sandbox_id": first,
            "code": f"import time\nmarker = {omcp_client.marker_literal(marker)}\n"
                    "time.sleep(3)"})
        time.sleep(1.0)
        seen = self.run_json(server, second, textwrap.dedent("""
            import json, os
            print(json.dumps(sorted(int(pid) for pid in os.listdir("/proc")
                                    if pid.isdigit() and int(pid) != os.getpid())))
        """))
        server.tool_result(running)
        self.assertEqual(seen, [1], "another sandbox must see only its own supervisor")

        # And the server's log, at DEBUG, never has them.
        self.assertNotIn(password, server.stderr_text())
        server.close()
        self.assertNotIn(password, server.stderr_text())


# Queries over Synthea27Nj whose results must be equal on both backends.
SYNTHEA_CODE = textwrap.dedent("""
    import json, omop
    def show(frame):
        return {"columns": list(frame.columns), "dtypes": [str(t) for t in frame.dtypes],
                "rows": json.loads(frame.to_json(orient="values", date_format="iso"))}
    out = {}
    out["person"] = show(omop.table("person"))
    out["first_measurements"] = show(omop.query(
        "SELECT m.measurement_id, m.person_id, m.measurement_concept_id, m.measurement_date, "
        "m.measurement_datetime, m.value_as_number, m.unit_source_value "
        "FROM omop_cdm.measurement m ORDER BY m.measurement_id LIMIT 200"))
    out["per_concept"] = show(omop.query(
        "SELECT measurement_concept_id, COUNT(*) AS n, MIN(measurement_date) AS first_date, "
        "MAX(measurement_date) AS last_date FROM omop_cdm.measurement "
        "GROUP BY measurement_concept_id ORDER BY n DESC, measurement_concept_id"))
    out["visits"] = show(omop.query(
        "SELECT person_id, COUNT(*) AS visits FROM omop_cdm.visit_occurrence "
        "WHERE visit_start_date >= :since GROUP BY person_id ORDER BY person_id",
        {"since": "2015-01-01"}))
    out["names"] = [omop.concept_name(c) for c in (9201, 9202, 8507)]
    out["tables"] = omop.tables()
    print(json.dumps(out))
""")


def omcp_command(env, *args, cwd=None):
    """Run omcp ARGS with the DB_* variables ENV and return the completed process."""
    full_env = omcp_client.base_environment("WARNING")
    full_env.update(env)
    return subprocess.run([str(omcp_client.omcp_binary()), *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=600)


@unittest.skipIf(omcp_client.skip_reason() or postgres_missing()
                 or (not SYNTHEA_ZIP.exists() and f"{SYNTHEA_ZIP} is missing"),
                 omcp_client.skip_reason() or postgres_missing()
                 or f"{SYNTHEA_ZIP} is missing")
class SyntheaTest(DataAccessCase):
    """Synthea27Nj loaded by `omcp cdm load` into SQLite and PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="omcp-synthea-")
        cls.addClassCleanup(shutil.rmtree, cls.directory, True)
        cls.sqlite_env = {"DB_BACKEND": "sqlite",
                          "DB_PATH": os.path.join(cls.directory, "cdm.sqlite")}
        cls.pg = pg_server.PostgresServer().start()
        cls.addClassCleanup(cls.pg.stop)
        for env in (cls.sqlite_env, cls.pg.environment()):
            for args in (("cdm", "init"), ("cdm", "load", str(SYNTHEA_ZIP))):
                completed = omcp_command(env, *args)
                if completed.returncode != 0:
                    raise AssertionError(f"omcp {' '.join(args)} failed on "
                                         f"{env['DB_BACKEND']}:\n{completed.stdout}"
                                         f"{completed.stderr}")

    def test_same_answers_on_both_backends(self):
        lite = self.start_server(env=self.sqlite_env)
        pg = self.start_server(env=self.pg.environment(reader=True))
        lite_out = self.run_json(lite, self.new_sandbox(lite), SYNTHEA_CODE)
        pg_out = self.run_json(pg, self.new_sandbox(pg), SYNTHEA_CODE)
        self.assertEqual(len(lite_out["person"]["rows"]), 28)
        # This export ships no gender concepts.
        self.assertEqual(lite_out["names"], ["Inpatient Visit", "Outpatient Visit", None])
        self.assertIn("datetime64[ns]", lite_out["first_measurements"]["dtypes"])
        for key in lite_out:
            self.assertEqual(lite_out[key], pg_out[key], key)

        lite_analyses, pg_analyses = self.analyses(lite), self.analyses(pg)
        for analyses in (lite_analyses, pg_analyses):
            for result in analyses.values():
                result.pop("backend")
        for analysis_type in ANALYSIS_TYPES:
            self.assertEqual(lite_analyses[analysis_type], pg_analyses[analysis_type],
                             analysis_type)
        self.assertEqual(lite_analyses["basic"]["tables"]["person"], 28)
        self.assertEqual(lite_analyses["demographics"]["persons"], 28)
        for analysis_type in ("conditions", "drugs", "measurements", "visits"):
            top = lite_analyses[analysis_type]["top_concepts"]
            self.assertTrue(0 < len(top) <= 20, analysis_type)
            keys = [(-c["persons"], -c["records"], c["concept_id"]) for c in top]
            self.assertEqual(keys, sorted(keys), f"{analysis_type} is not in order")

    def test_loader_writes_in_place(self):
        # Sandboxes hold the inode of DB_PATH: a reload must keep it.
        path = pathlib.Path(self.directory) / "reload.sqlite"
        shutil.copy(self.sqlite_env["DB_PATH"], path)
        os.chmod(path, 0o644)
        env = {"DB_BACKEND": "sqlite", "DB_PATH": str(path)}
        server = self.start_server(env=env)
        sandbox_id = self.new_sandbox(server)
        count = ("import omop\nprint(int(omop.query('SELECT COUNT(*) AS n FROM "
                 "omop_cdm.person')['n'][0]))")
        self.assertEqual(self.run_ok(server, sandbox_id, count)["output"], "28\n")
        inode = path.stat().st_ino

        subset = pathlib.Path(self.directory) / "subset"
        subset.mkdir()
        with zipfile.ZipFile(SYNTHEA_ZIP) as archive:
            member = next(n for n in archive.namelist()
                          if n.rsplit("/", 1)[-1].lower() == "person.csv")
            lines = archive.read(member).decode("utf-8-sig").splitlines(True)
        (subset / "person.csv").write_text("".join(lines[:4]))
        completed = omcp_command(env, "cdm", "load", str(subset))
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertEqual(path.stat().st_ino, inode, "omcp cdm load replaced the file")
        self.assertEqual(self.run_ok(server, sandbox_id, count)["output"], "3\n")


if __name__ == "__main__":
    omcp_client.main()
