#!/usr/bin/python3
"""Tests of the fast-path query tools (query_omop_table, Select_Query,
Get_information_Schema, describe_table) over MCP, on SQLite loaded with
the Synthea27Nj OMOP CDM v5.4 export by `omcp cdm load`."""

import datetime
import hashlib
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import omcp_client
import pg_server
from omcp_client import ServerTestCase

INVALID_PARAMS = -32602
REFUSAL = "Only read-only SELECT queries are allowed"
RAW_WHERE_DISABLED = ("Raw WHERE clause is disabled. Use filters instead or set "
                      "ALLOW_UNSAFE_SQL=true.")
QUERY_TOOLS = ("query_omop_table", "Select_Query", "Get_information_Schema", "describe_table")
AUDIT_FIELDS = {"query_id", "executed_at", "backend", "row_limit", "rows_returned", "truncated"}



SYNTHEA_ZIP = omcp_client.find_synthea_zip()

# Statements that would change data, sent through every tool that takes text.
WRITE_ATTEMPTS = (
    "DELETE FROM omop_cdm.person",
    "UPDATE omop_cdm.person SET year_of_birth = 1900",
    "INSERT INTO omop_cdm.person (person_id, gender_concept_id, year_of_birth, race_concept_id,"
    " ethnicity_concept_id) VALUES (999999, 0, 1900, 0, 0)",
    "DROP TABLE omop_cdm.person",
    "WITH d AS (DELETE FROM omop_cdm.person RETURNING *) SELECT * FROM d",
    "SELECT 1; DELETE FROM omop_cdm.person",
    "SELECT * INTO omop_cdm.copy FROM omop_cdm.person",
    "ATTACH DATABASE '/tmp/omcp-attack.sqlite' AS attack",
    "PRAGMA omop_cdm.journal_mode = DELETE",
    "SELECT * FROM omop_cdm.person FOR UPDATE",
    "SELECT writefile('/tmp/omcp-attack', 'x')",
    "SELECT load_extension('/tmp/omcp-attack.so')",
    "CREATE TABLE omop_cdm.attack (x INTEGER)",
    "VACUUM",
)

# Raw WHERE texts that try to break out of the condition.
WHERE_ATTEMPTS = (
    "1=1; DELETE FROM omop_cdm.person",
    "1=1) UNION SELECT * FROM omop_cdm.person; DELETE FROM omop_cdm.person; SELECT (1",
    "person_id IN (WITH d AS (DELETE FROM omop_cdm.person RETURNING person_id) SELECT * FROM d)",
    "1=1 -- comment",
    "writefile('/tmp/omcp-attack', 'x') = 1",
    "1=1 FOR UPDATE",
)


def table_counts(path):
    """Return {table: rows} of every table in the SQLite file PATH."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in tables}
    finally:
        connection.close()


def file_digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


class QueryToolsTest(ServerTestCase):
    """The tools on SQLite, the default backend."""

    BACKEND = "sqlite"
    # Refused on this backend only.
    BACKEND_REFUSALS = ("SELECT * FROM pragma_database_list",)
    # About 3 MB of text per person: 84 MB of rows in all.
    BIG_ROWS_QUERY = "SELECT hex(zeroblob(1500000)) AS t FROM omop_cdm.person"

    @classmethod
    def setUpClass(cls):
        if not SYNTHEA_ZIP.exists():
            raise AssertionError(f"the Synthea27Nj export is missing: {SYNTHEA_ZIP}; "
                                 "set OMCP_SYNTHEA_ZIP")
        cls.data_dir = pathlib.Path(tempfile.mkdtemp(dir=omcp_client.LOG_DIR, prefix="cdm-"))
        cls.server_env = cls.start_backend()
        cls.load(cls.server_env)
        cls.counts = cls.table_counts()
        cls.state = cls.snapshot()
        cls.persons = cls.counts["person"]

    @classmethod
    def start_backend(cls):
        """Return the DB_* variables of the database the tests use."""
        cls.db_path = cls.data_dir / "omop.sqlite"
        return {"DB_PATH": str(cls.db_path)}

    @classmethod
    def load(cls, env_vars):
        env = omcp_client.base_environment()
        env.update(env_vars)
        load = subprocess.run([str(omcp_client.omcp_binary()), "cdm", "load", str(SYNTHEA_ZIP)],
                              env=env, cwd=cls.data_dir, capture_output=True, text=True,
                              timeout=300)
        if load.returncode != 0:
            raise AssertionError(f"omcp cdm load failed ({load.returncode}): {load.stderr}")

    @classmethod
    def table_counts(cls):
        return table_counts(cls.db_path)

    @classmethod
    def snapshot(cls):
        """Return something that changes when any byte of the data changes."""
        return file_digest(cls.db_path)

    def setUp(self):
        self.server = self.start_server(env=self.server_env)

    def tearDown(self):
        # No test may change the database.
        self.assertEqual(self.table_counts(), self.counts)
        self.assertEqual(self.snapshot(), self.state)

    def serve(self, **settings):
        """Start another server on the same database with extra SETTINGS."""
        return self.start_server(env={**self.server_env, **settings})

    def call(self, tool, arguments=None, server=None):
        return (server or self.server).call_tool(tool, arguments or {})

    def ok(self, tool, arguments=None, server=None):
        result = self.call(tool, arguments, server)
        self.assertIs(result.get("success"), True, f"{tool} {arguments!r}: {result!r}")
        return result

    def failed(self, tool, arguments=None, server=None):
        result = self.call(tool, arguments, server)
        self.assertIs(result.get("success"), False, f"{tool} {arguments!r}: {result!r}")
        self.assertIsInstance(result.get("error"), str)
        return result

    def assert_audit(self, result, row_limit, rows_returned, truncated):
        audit = result["audit"]
        self.assertEqual(set(audit), AUDIT_FIELDS)
        self.assertRegex(audit["query_id"], omcp_client.UUID_PATTERN)
        executed = datetime.datetime.strptime(audit["executed_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.assertLess(abs((now - executed).total_seconds()), 600)
        self.assertEqual(audit["backend"], self.BACKEND)
        self.assertEqual(audit["row_limit"], row_limit)
        self.assertEqual(audit["rows_returned"], rows_returned)
        self.assertIs(audit["truncated"], truncated)

    # -- listing ------------------------------------------------------------

    def test_tools_listed_with_arguments(self):
        tools = {tool["name"]: tool for tool in self.server.result("tools/list")["tools"]}
        for name in QUERY_TOOLS:
            self.assertIn(name, tools)
            self.assertIs(tools[name]["annotations"]["readOnlyHint"], True)
        self.assertEqual(set(tools["query_omop_table"]["inputSchema"]["properties"]),
                         {"table_name", "limit", "columns", "filters", "where"})
        self.assertEqual(tools["query_omop_table"]["inputSchema"]["required"], ["table_name"])
        self.assertEqual(set(tools["Select_Query"]["inputSchema"]["properties"]), {"query"})
        self.assertEqual(tools["Get_information_Schema"]["inputSchema"]["properties"], {})
        self.assertEqual(set(tools["describe_table"]["inputSchema"]["properties"]),
                         {"table_name"})

    # -- query_omop_table ---------------------------------------------------

    def test_table_rows_and_types(self):
        result = self.ok("query_omop_table", {"table_name": "person", "limit": 3})
        self.assertEqual(result["columns"][0], "person_id")
        self.assertIn("birth_datetime", result["columns"])
        self.assertEqual(result["count"], 3)
        self.assertEqual(len(result["rows"]), 3)
        self.assertIs(result["truncated"], True)
        self.assert_audit(result, 3, 3, True)
        row = dict(zip(result["columns"], result["rows"][0]))
        self.assertIsInstance(row["person_id"], int)
        self.assertIsInstance(row["year_of_birth"], int)
        self.assertRegex(row["birth_datetime"], r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")

        measurement = self.ok("query_omop_table", {
            "table_name": "measurement", "limit": 1,
            "columns": ["measurement_date", "value_as_number"],
            "filters": {"value_as_number": {"is_null": False}}})
        date, value = measurement["rows"][0]
        self.assertRegex(date, r"^\d{4}-\d{2}-\d{2}$")
        self.assertIsInstance(value, (int, float))
        self.assertNotIsInstance(value, bool)
        missing = self.ok("query_omop_table", {
            "table_name": "measurement", "limit": 1, "columns": ["value_as_number"],
            "filters": {"value_as_number": None}})
        self.assertEqual(missing["rows"], [[None]])

    def test_truncated_boundaries(self):
        exact = self.ok("query_omop_table", {"table_name": "person", "limit": self.persons})
        self.assertEqual(exact["count"], self.persons)
        self.assertIs(exact["truncated"], False)
        self.assert_audit(exact, self.persons, self.persons, False)

        one_less = self.ok("query_omop_table", {"table_name": "person",
                                                "limit": self.persons - 1})
        self.assertEqual(one_less["count"], self.persons - 1)
        self.assertIs(one_less["truncated"], True)

        more = self.ok("query_omop_table", {"table_name": "person", "limit": self.persons + 1})
        self.assertEqual(more["count"], self.persons)
        self.assertIs(more["truncated"], False)

    def test_limit_clamped(self):
        cases = [(0, 1), (-7, 1), (1, 1), ("5", 5), ("abc", 100), (None, 100), (2.9, 2),
                 (5000, 1000), (10 ** 12, 1000)]
        for limit, expected in cases:
            with self.subTest(limit=limit):
                arguments = {"table_name": "measurement"}
                if limit is not None:
                    arguments["limit"] = limit
                result = self.ok("query_omop_table", arguments)
                self.assertEqual(result["count"], expected)
                self.assertIs(result["truncated"], True)
                self.assertEqual(result["audit"]["row_limit"], expected)
        default = self.ok("query_omop_table", {"table_name": "measurement"})
        self.assertEqual(default["count"], 100)

    def test_limit_settings(self):
        server = self.serve(QUERY_MAX_ROWS=10, QUERY_DEFAULT_LIMIT=4)
        self.assertEqual(self.ok("query_omop_table", {"table_name": "person"},
                                 server)["count"], 4)
        self.assertEqual(self.ok("query_omop_table", {"table_name": "person", "limit": 50},
                                 server)["count"], 10)
        query = self.ok("Select_Query", {"query": "SELECT person_id FROM omop_cdm.person"},
                        server)
        self.assertEqual(query["count"], 10)
        self.assertIs(query["truncated"], True)
        self.assert_audit(query, 10, 10, True)

    def test_filters_match_sql(self):
        cases = [
            ({"person_id": 5}, "person_id = 5"),
            ({"person_id": {"eq": 5}}, "person_id = 5"),
            ({"gender_concept_id": {"ne": 8507}}, "gender_concept_id <> 8507"),
            ({"year_of_birth": {"lt": 1960}}, "year_of_birth < 1960"),
            ({"year_of_birth": {"le": 1960}}, "year_of_birth <= 1960"),
            ({"year_of_birth": {"gt": 1990}}, "year_of_birth > 1990"),
            ({"year_of_birth": {"ge": 1990}}, "year_of_birth >= 1990"),
            ({"person_id": {"in": [1, 3, 5, 1000]}}, "person_id IN (1, 3, 5, 1000)"),
            ({"year_of_birth": {"between": [1950, 1970]}}, "year_of_birth BETWEEN 1950 AND 1970"),
            ({"gender_source_value": {"like": "F%"}}, "gender_source_value LIKE 'F%'"),
            ({"location_id": {"is_null": True}}, "location_id IS NULL"),
            ({"location_id": {"is_null": False}}, "location_id IS NOT NULL"),
            ({"location_id": None}, "location_id IS NULL"),
            ({"gender_source_value": "M", "year_of_birth": {"gt": 1950}},
             "gender_source_value = 'M' AND year_of_birth > 1950"),
        ]
        for filters, condition in cases:
            with self.subTest(filters=filters):
                result = self.ok("query_omop_table", {"table_name": "person", "limit": 1000,
                                                      "columns": ["person_id"],
                                                      "filters": filters})
                expected = self.ok("Select_Query", {
                    "query": f"SELECT person_id FROM omop_cdm.person WHERE {condition}"})
                self.assertEqual(sorted(result["rows"]), sorted(expected["rows"]))
        # Dates compare as ISO text.
        visits = self.ok("query_omop_table", {
            "table_name": "visit_occurrence", "limit": 1000, "columns": ["visit_start_date"],
            "filters": {"visit_start_date": {"between": ["2015-01-01", "2015-12-31"]}}})
        self.assertTrue(visits["rows"])
        for (date,) in visits["rows"]:
            self.assertTrue("2015-01-01" <= date <= "2015-12-31", date)

    def test_filter_values_are_parameters(self):
        result = self.ok("query_omop_table", {
            "table_name": "person",
            "filters": {"person_source_value": "x' OR '1'='1"}})
        self.assertEqual(result["count"], 0)
        result = self.ok("query_omop_table", {
            "table_name": "person",
            "filters": {"person_source_value": {"like": "%'; DELETE FROM omop_cdm.person; --"}}})
        self.assertEqual(result["count"], 0)

    def test_table_and_column_errors(self):
        cases = [
            ({"table_name": "nope"}, "Invalid table name"),
            ({"table_name": "person; DROP TABLE person"}, "Invalid table name"),
            ({"table_name": "sqlite_master"}, "Invalid table name"),
            ({"table_name": "omop_cdm.person"}, "Invalid table name"),
            ({"table_name": ""}, "Invalid table name"),
            ({"table_name": "person", "columns": ["person_id", "secret"]},
             "Invalid column name: secret"),
            ({"table_name": "person", "columns": ["person_id, 1"]},
             "Invalid column name: person_id, 1"),
            ({"table_name": "person", "columns": ["concept_name"]},
             "Invalid column name: concept_name"),
            ({"table_name": "person", "filters": {"nope": 1}}, "Invalid filter column: nope"),
            ({"table_name": "person", "filters": {"1=1 OR person_id": 1}},
             "Invalid filter column: 1=1 OR person_id"),
        ]
        for arguments, message in cases:
            with self.subTest(arguments=arguments):
                result = self.failed("query_omop_table", arguments)
                self.assertTrue(result["error"].startswith(message), result["error"])

    def test_filter_errors(self):
        cases = [
            ({"columns": []}, "columns must name at least one column"),
            ({"filters": {"person_id": {"regex": "x"}}}, "unknown operator 'regex'"),
            ({"filters": {"person_id": {"in": 5}}}, "'in' needs a non-empty array"),
            ({"filters": {"person_id": {"in": []}}}, "'in' needs a non-empty array"),
            ({"filters": {"person_id": {"between": [1]}}}, "'between' needs an array of two"),
            ({"filters": {"person_id": {"between": [1, 2, 3]}}}, "'between' needs an array of two"),
            ({"filters": {"person_id": {"is_null": "yes"}}}, "'is_null' needs true or false"),
            ({"filters": {"person_id": {"gt": 1, "lt": 5}}}, "exactly one operator"),
            ({"filters": {"person_id": {"eq": None}}}, "'eq' needs a value"),
            ({"filters": {"person_id": [1, 2]}}, "'eq' needs a string, number or boolean"),
            ({"filters": {"person_source_value": {"like": 5}}}, "'like' needs a string"),
        ]
        for arguments, message in cases:
            with self.subTest(arguments=arguments):
                result = self.failed("query_omop_table", {"table_name": "person", **arguments})
                self.assertIn(message, result["error"])

    def test_wrong_argument_types(self):
        cases = [
            {"table_name": 5},
            {"table_name": "person", "columns": "person_id"},
            {"table_name": "person", "columns": [1]},
            {"table_name": "person", "filters": [1]},
            {"table_name": "person", "where": 1},
            {"table_name": "person", "limit": [5]},
            {"table_name": "person", "unknown": 1},
            {},
        ]
        for arguments in cases:
            with self.subTest(arguments=arguments):
                response = self.server.call_tool_response("query_omop_table", arguments)
                self.assertEqual(response.get("error", {}).get("code"), INVALID_PARAMS,
                                 response)
        for tool, arguments in (("Select_Query", {}), ("Select_Query", {"query": 5}),
                                ("describe_table", {}), ("describe_table", {"table_name": []})):
            with self.subTest(tool=tool, arguments=arguments):
                response = self.server.call_tool_response(tool, arguments)
                self.assertEqual(response.get("error", {}).get("code"), INVALID_PARAMS,
                                 response)

    def test_raw_where_disabled(self):
        result = self.failed("query_omop_table", {"table_name": "person",
                                                  "where": "person_id = 1"})
        self.assertEqual(result["error"], RAW_WHERE_DISABLED)

    def test_raw_where_when_allowed(self):
        server = self.serve(ALLOW_UNSAFE_SQL="true")
        result = self.ok("query_omop_table", {"table_name": "person", "columns": ["person_id"],
                                              "where": "person_id IN (1, 2)",
                                              "filters": {"person_id": {"ne": 2}}}, server)
        self.assertEqual(result["rows"], [[1]])
        # The raw text stays inside its parentheses and under the policy.
        result = self.ok("query_omop_table", {"table_name": "person", "columns": ["person_id"],
                                              "where": "1=1 OR 1=1",
                                              "filters": {"person_id": 3}}, server)
        self.assertEqual(result["rows"], [[3]])
        for where in WHERE_ATTEMPTS:
            with self.subTest(where=where):
                result = self.failed("query_omop_table", {"table_name": "person",
                                                          "where": where}, server)
                self.assertNotIn("Raw WHERE", result["error"])

    # -- Select_Query -------------------------------------------------------

    def test_select_query(self):
        result = self.ok("Select_Query", {
            "query": "SELECT measurement_concept_id, count(*) AS n FROM omop_cdm.measurement "
                     "GROUP BY measurement_concept_id ORDER BY n DESC, 1 LIMIT 5;"})
        self.assertEqual(result["columns"], ["measurement_concept_id", "n"])
        self.assertEqual(result["count"], 5)
        self.assertIs(result["truncated"], False)
        self.assert_audit(result, 1000, 5, False)
        total = self.ok("Select_Query", {"query": "SELECT count(*) FROM omop_cdm.measurement"})
        self.assertEqual(total["rows"], [[self.counts["measurement"]]])

        cte = self.ok("Select_Query", {
            "query": "WITH p AS (SELECT person_id FROM omop_cdm.person) "
                     "SELECT count(*) AS n, 'DELETE; --' AS \"drop table\" FROM p"})
        self.assertEqual(cte["rows"], [[self.persons, "DELETE; --"]])

        # The backend reads a backslash in '...' as the policy's scanner does.
        backslash = self.ok("Select_Query", {"query": "SELECT 'a\\' AS s"})
        self.assertEqual(backslash["rows"], [["a\\"]])

    def test_select_query_row_cap(self):
        result = self.ok("Select_Query", {"query": "SELECT * FROM omop_cdm.measurement"})
        self.assertEqual(result["count"], 1000)
        self.assertIs(result["truncated"], True)
        self.assert_audit(result, 1000, 1000, True)

    def test_select_query_refusals(self):
        refused = WRITE_ATTEMPTS + (
            "", "   ", "SELECT 1;;", "SELECT 1 -- x", "SELECT /* x */ 1", "SELECT $$x$$",
            "SELECT $t$x$t$", "SELECT 'unterminated", "SELECT pg_sleep(1)",
            "SELECT readfile('/etc/passwd')", "EXPLAIN SELECT 1",
        ) + self.BACKEND_REFUSALS
        for query in refused:
            with self.subTest(query=query):
                result = self.failed("Select_Query", {"query": query})
                self.assertTrue(result["error"].startswith(REFUSAL), result["error"])

        result = self.failed("Select_Query", {"query": "SELECT * FROM omop_cdm.no_such_table"})
        self.assertFalse(result["error"].startswith(REFUSAL), result["error"])

    def test_result_size_capped(self):
        result = self.failed("Select_Query", {"query": self.BIG_ROWS_QUERY})
        self.assertTrue(result["error"].startswith("Result too large"), result["error"])
        self.assertNotIn("rows", result)
        self.assertEqual(result["audit"]["rows_returned"], 28)
        small = self.ok("Select_Query", {"query": "SELECT person_id FROM omop_cdm.person"})
        self.assertEqual(small["count"], 28)

    def test_huge_value_refused(self):
        # SQLite builds values in the server's memory, so a gigabyte blob
        # must fail inside SQLite rather than be allocated.
        result = self.failed("Select_Query",
                             {"query": "SELECT length(randomblob(1000000000)) AS n"})
        self.assertIn("too big", result["error"])

    def test_write_attempts_change_nothing(self):
        server = self.serve(ALLOW_UNSAFE_SQL="true")
        for statement in WRITE_ATTEMPTS:
            with self.subTest(statement=statement):
                self.failed("Select_Query", {"query": statement}, server)
                self.failed("query_omop_table", {"table_name": "person", "where": statement},
                            server)
                self.failed("describe_table", {"table_name": statement}, server)
        for where in WHERE_ATTEMPTS:
            self.failed("query_omop_table", {"table_name": "person", "where": where}, server)
        self.assertFalse(os.path.exists("/tmp/omcp-attack"))
        self.assertFalse(os.path.exists("/tmp/omcp-attack.sqlite"))
        # tearDown compares every table's count and the file's digest.

    def test_timeout(self):
        server = self.serve(QUERY_TIMEOUT_MS=1000)
        result = self.failed("Select_Query", {
            "query": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                     "WHERE x < 1000000000) SELECT count(*) FROM n"}, server)
        self.assertIn("timed out", result["error"])
        self.assertIn("1000 ms", result["error"])
        self.assertEqual(result["audit"]["rows_returned"], 0)
        # The connection still works afterwards.
        self.ok("Select_Query", {"query": "SELECT 1"}, server)

    # -- audit --------------------------------------------------------------

    def test_audit_holds_no_sql_or_rows(self):
        marker = "omcp-marker-7f3a"
        result = self.ok("Select_Query", {
            "query": f"SELECT '{marker}' AS tag, person_source_value FROM omop_cdm.person"})
        audit_text = json.dumps(result["audit"])
        self.assertNotIn(marker, audit_text)
        self.assertNotIn("SELECT", audit_text)
        self.assertNotIn("omop_cdm", audit_text)
        for row in result["rows"]:
            self.assertNotIn(str(row[1]), audit_text)

        filtered = self.ok("query_omop_table", {"table_name": "person",
                                                "filters": {"person_source_value": marker}})
        self.assertNotIn(marker, json.dumps(filtered["audit"]))
        refused = self.failed("Select_Query", {"query": f"DELETE FROM x WHERE y = '{marker}'"})
        self.assertNotIn(marker, json.dumps(refused["audit"]))

        # The same record goes to the log, still without SQL or values.
        log = self.server.stderr_text()
        for record in (result, filtered, refused):
            audit = record["audit"]
            self.assertIn(f"query_id={audit['query_id']}", log)
            line = next(line for line in log.splitlines() if audit["query_id"] in line)
            for field in ("executed_at", "backend", "row_limit", "rows_returned"):
                self.assertIn(f"{field}={audit[field]}", line)
            self.assertIn(f"truncated={'true' if audit['truncated'] else 'false'}", line)
        self.assertNotIn(marker, log)
        self.assertNotIn("omop_cdm.person", log)

    # -- Get_information_Schema and describe_table --------------------------

    def test_information_schema(self):
        result = self.ok("Get_information_Schema")
        schemas = {schema["schema"]: schema["tables"] for schema in result["schemas"]}
        self.assertIn("omop_cdm", schemas)
        for table in ("person", "measurement", "concept", "visit_occurrence"):
            self.assertIn(table, schemas["omop_cdm"])
        self.assertEqual(result["columns"], ["table_schema", "table_name"])
        self.assertIn(["omop_cdm", "person"], result["rows"])
        self.assertEqual(result["count"], len(result["rows"]))
        self.assert_audit(result, result["count"], result["count"], False)

    def test_describe_table(self):
        result = self.ok("describe_table", {"table_name": "Person"})
        self.assertEqual(result["table_name"], "person")
        self.assertEqual(result["row_count"], self.persons)
        columns = {column["name"]: column for column in result["columns"]}
        self.assertIn("person_id", columns)
        self.assertIs(columns["person_id"]["nullable"], False)
        self.assertIs(columns["location_id"]["nullable"], True)
        self.assertIsInstance(columns["person_id"]["type"], str)
        self.assertEqual(result["count"], len(result["columns"]))

        described = self.ok("describe_table", {"table_name": "measurement"})
        self.assertEqual(described["row_count"], self.counts["measurement"])

        for name in ("nope", "person; DROP TABLE person", ""):
            with self.subTest(table_name=name):
                failed = self.failed("describe_table", {"table_name": name})
                self.assertTrue(failed["error"].startswith("Invalid table name"))

    # -- a missing database -------------------------------------------------

    def test_missing_database_then_reconnect(self):
        directory = pathlib.Path(tempfile.mkdtemp(dir=omcp_client.LOG_DIR, prefix="late-"))
        path = directory / "omop.sqlite"
        server = self.start_server(env={"DB_PATH": path})
        for tool, arguments in (("Select_Query", {"query": "SELECT 1"}),
                                ("query_omop_table", {"table_name": "person"}),
                                ("Get_information_Schema", {}),
                                ("describe_table", {"table_name": "person"})):
            with self.subTest(tool=tool):
                result = self.failed(tool, arguments, server)
                self.assertIn(str(path), result["error"])
        # Argument errors do not need the database.
        self.assertTrue(self.failed("query_omop_table", {"table_name": "nope"}, server)
                        ["error"].startswith("Invalid table name"))
        # The sandbox tools keep working.
        sandbox_id = self.new_sandbox(server)
        self.assertTrue(sandbox_id)
        # Once the file exists, the next call opens it.
        shutil.copyfile(self.db_path, path)
        result = self.ok("Select_Query", {"query": "SELECT count(*) FROM omop_cdm.person"},
                         server)
        self.assertEqual(result["rows"], [[self.persons]])


@unittest.skipIf(pg_server.missing_reason(), pg_server.missing_reason())
class PostgresQueryToolsTest(QueryToolsTest):
    """The same tests on a private PostgreSQL server. omcp connects as the
    superuser, so that only its own read-only guards stand between a query
    and the data, not the read-only role."""

    BACKEND = "postgresql"
    BIG_ROWS_QUERY = "SELECT repeat('x', 3000000) AS t FROM omop_cdm.person"
    BACKEND_REFUSALS = ("SELECT pg_catalog.pg_read_file('/etc/passwd')",
                        "SELECT * FROM pg_ls_dir('.')",
                        "SELECT nextval('omop_cdm.attack')",
                        "SELECT set_config('default_transaction_read_only', 'off', false)")

    def test_huge_value_refused(self):
        # PostgreSQL builds the value in its own process; one value past
        # the response limit is still refused rather than sent.
        result = self.failed("Select_Query", {"query": "SELECT repeat('x', 9000000) AS t"})
        self.assertTrue(result["error"].startswith("Result too large"), result["error"])

    @classmethod
    def start_backend(cls):
        cls.pg = pg_server.PostgresServer().start()
        return cls.pg.environment()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        super().tearDownClass()

    @classmethod
    def table_counts(cls):
        rows = cls.pg.psql(
            "SELECT table_name, (xpath('/row/c/text()', query_to_xml(format("
            "'SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]"
            "::text FROM information_schema.tables WHERE table_schema = 'omop_cdm' "
            "ORDER BY table_name")
        counts = {}
        for line in rows.splitlines():
            name, count = line.split("|")
            counts[name] = int(count)
        return counts

    @classmethod
    def snapshot(cls):
        return cls.pg.psql(
            "SELECT md5(string_agg(p::text, ',' ORDER BY person_id)) FROM omop_cdm.person p; "
            "SELECT md5(string_agg(m::text, ',' ORDER BY measurement_id)) "
            "FROM omop_cdm.measurement m")

    def test_missing_database_then_reconnect(self):
        # A server that does not listen: a socket directory with no socket.
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR, prefix="nopg-")
        server = self.start_server(env={**self.server_env, "DB_HOST": directory})
        for tool, arguments in (("Select_Query", {"query": "SELECT 1"}),
                                ("query_omop_table", {"table_name": "person"}),
                                ("Get_information_Schema", {}),
                                ("describe_table", {"table_name": "person"})):
            with self.subTest(tool=tool):
                self.failed(tool, arguments, server)
        self.assertTrue(self.new_sandbox(server))


if __name__ == "__main__":
    omcp_client.main()
