#!/usr/bin/env python3
"""A scripted MCP session, as an agent would run it against the real
binary. It writes the synthetic demo CDM into a new SQLite file in a
temporary directory (`omcp demo-data`), starts `omcp serve` on it, looks at
the CDM through the fast-path query tools, answers research questions with
pandas in a sandbox, and cleans up. Uses only the Python standard library.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

# Research questions answered in a sandbox. An agent finds concepts by
# name, so the code looks them up in the concept table instead of using
# concept ids.
ANALYSIS = r'''
import omop
import pandas as pd

def concept_ids(name_pattern, domain):
    found = omop.query("SELECT concept_id, concept_name FROM omop_cdm.concept "
                       "WHERE domain_id = ? AND LOWER(concept_name) LIKE ?",
                       [domain, name_pattern.lower()])
    return found["concept_id"].tolist()

diabetes = concept_ids("Type 2 diabetes mellitus", "Condition")
metformin = concept_ids("%metformin%", "Drug")
liraglutide = concept_ids("%liraglutide%", "Drug")
hba1c = concept_ids("Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement")

def id_list(ids):
    return ", ".join(str(int(i)) for i in ids)

persons = omop.query("SELECT person_id, year_of_birth FROM omop_cdm.person")
with_diabetes = set(omop.query(
    "SELECT DISTINCT person_id FROM omop_cdm.condition_occurrence "
    "WHERE condition_concept_id IN (%s)" % id_list(diabetes))["person_id"])
persons["type_2_diabetes"] = persons["person_id"].isin(with_diabetes)
persons["decade_of_birth"] = (persons["year_of_birth"] // 10 * 10).astype(str) + "s"

prevalence = (persons.groupby("decade_of_birth")
              .agg(persons=("person_id", "count"), with_t2dm=("type_2_diabetes", "sum")))
prevalence["prevalence"] = (prevalence["with_t2dm"] / prevalence["persons"]).map("{:.0%}".format)
print("Q1. Prevalence of type 2 diabetes by decade of birth")
print(prevalence.to_string())

drugs = omop.query(
    "SELECT DISTINCT person_id, drug_concept_id FROM omop_cdm.drug_exposure "
    "WHERE drug_concept_id IN (%s)" % id_list(metformin + liraglutide))
on_metformin = set(drugs.loc[drugs["drug_concept_id"].isin(metformin), "person_id"])
on_liraglutide = set(drugs.loc[drugs["drug_concept_id"].isin(liraglutide), "person_id"])

def drug_group(person_id):
    if person_id not in with_diabetes:
        return "no diabetes"
    if person_id in on_liraglutide:
        return "T2DM, metformin + liraglutide"
    if person_id in on_metformin:
        return "T2DM, metformin"
    return "T2DM, no diabetes drug"

results = omop.query(
    "SELECT person_id, value_as_number FROM omop_cdm.measurement "
    "WHERE measurement_concept_id IN (%s)" % id_list(hba1c))
missing = int(results["value_as_number"].isna().sum())
results = results.dropna(subset=["value_as_number"])
results["group"] = results["person_id"].map(drug_group)
summary = (results.groupby("group")
           .agg(persons=("person_id", "nunique"), results=("value_as_number", "count"),
                mean_hba1c=("value_as_number", "mean"))
           .round(2))
print()
print("Q2. Mean HbA1c (%%) per drug group (%d results without a value left out)" % missing)
print(summary.to_string())
summary.to_csv("hba1c_by_group.csv")
'''

FOLLOW_UP = r'''
import pandas as pd
summary = pd.read_csv("hba1c_by_group.csv")   # written by the previous execution
print("Groups kept in /sandbox between executions:", len(summary))
'''

# Refused by the static check before any process runs it.
DANGEROUS = '''import socket
socket.create_connection(("127.0.0.1", 80), timeout=1)
'''


class Session:
    def __init__(self, argv, env, cwd):
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd)
        self.next_id = 1

    def request(self, method, params=None):
        request_id = self.next_id
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                sys.exit("omcp serve exited unexpectedly; run it by hand to see its log")
            reply = json.loads(line)
            if reply.get("id") == request_id:
                if "error" in reply:
                    sys.exit("%s failed: %s" % (method, reply["error"]["message"]))
                return reply["result"]

    def notify(self, method):
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.process.stdin.flush()

    def call(self, tool, expect_success=True, **arguments):
        """Call TOOL, print the request, and return its structured result.
        Exits when the result's success differs from EXPECT_SUCCESS."""
        shown = ", ".join("%s=%s" % (k, json.dumps(v)) for k, v in arguments.items()
                          if k != "code")
        print("\n> %s(%s)" % (tool, shown))
        started = time.perf_counter()
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        elapsed_ms = (time.perf_counter() - started) * 1000
        content = result.get("structuredContent")
        if content is None:
            text = "".join(c.get("text", "") for c in result.get("content", []))
            content = {"success": not result.get("isError"), "error": text}
        if bool(content.get("success", not result.get("isError"))) != expect_success:
            sys.exit("%s: unexpected result: %s" % (tool, json.dumps(content)[:2000]))
        return content, elapsed_ms

    def close(self):
        self.process.stdin.close()
        return self.process.wait(timeout=60)


def print_rows(result, max_rows=10):
    """Print a query result as a small aligned table."""
    columns = result["columns"]
    rows = [["" if v is None else str(v) for v in row] for row in result["rows"][:max_rows]]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)))
    more = " (more rows exist)" if result.get("truncated") else ""
    count = result.get("count", len(result["rows"]))
    print("  %d %s%s" % (count, "row" if count == 1 else "rows", more))


def fast_path(session):
    print("\n=== Fast path: queries without a sandbox ===")

    schema, ms = session.call("Get_information_Schema")
    for entry in schema.get("schemas", []):
        tables = entry.get("tables", [])
        print("  schema %s: %d tables (%s, ...)" % (entry.get("schema"), len(tables),
                                                   ", ".join(tables[:6])))
    print("  (%.1f ms)" % ms)

    person, ms = session.call("describe_table", table_name="person")
    columns = person.get("columns", [])
    print("  %d columns, %s rows: %s ..." % (
        len(columns), person.get("row_count"),
        ", ".join("%s %s" % (c.get("name"), c.get("type")) for c in columns[:5])))
    print("  (%.1f ms)" % ms)

    print("\nQ: How many persons are there by gender?")
    by_gender, ms = session.call("Select_Query", query=(
        "SELECT c.concept_name AS gender, COUNT(*) AS persons "
        "FROM omop_cdm.person p JOIN omop_cdm.concept c ON c.concept_id = p.gender_concept_id "
        "GROUP BY c.concept_name ORDER BY persons DESC"))
    print_rows(by_gender)
    print("  (%.1f ms, audit query_id %s)" % (ms, by_gender["audit"]["query_id"]))

    print("\nQ: Which conditions affect the most persons?")
    top, ms = session.call("Select_Query", query=(
        "SELECT c.concept_name AS condition, COUNT(DISTINCT co.person_id) AS persons "
        "FROM omop_cdm.condition_occurrence co "
        "JOIN omop_cdm.concept c ON c.concept_id = co.condition_concept_id "
        "GROUP BY c.concept_name ORDER BY persons DESC LIMIT 5"))
    print_rows(top)
    print("  (%.1f ms)" % ms)

    print("\nQ: Which HbA1c results are 9% or higher? (concept 3004410, filters as bound values)")
    high, ms = session.call("query_omop_table", table_name="measurement",
                            columns=["person_id", "measurement_date", "value_as_number"],
                            filters={"measurement_concept_id": 3004410,
                                     "value_as_number": {"ge": 9}},
                            limit=5)
    print_rows(high)
    print("  (%.1f ms)" % ms)

    print("\nQ: Person 42 at a glance")
    one, ms = session.call("query_omop_table", table_name="person",
                           columns=["person_id", "gender_concept_id", "year_of_birth",
                                    "race_concept_id"],
                           filters={"person_id": 42})
    print_rows(one)
    print("  (%.1f ms)" % ms)

    print("\nQ: Can a query change data? (it must not)")
    refused, _ = session.call("Select_Query", expect_success=False,
                              query="DELETE FROM omop_cdm.person")
    print("  rejected: %s" % refused.get("error"))


def sandbox_part(session):
    print("\n=== Sandbox: pandas over the read-only CDM ===")
    created, ms = session.call("create_sandbox")
    sandbox_id = created["sandbox_id"]
    print("  sandbox %s (%.1f ms)" % (sandbox_id, ms))

    demographics, ms = session.call("analyze_omop_data", sandbox_id=sandbox_id,
                                    analysis_type="demographics")
    print("  (%.0f ms)" % ms)
    print(textwrap.indent(summarize_demographics(demographics), "  "))

    print("\n> execute_python_code(sandbox_id=%s, code=<%d lines: omop.query + pandas>)"
          % (json.dumps(sandbox_id), ANALYSIS.strip().count("\n") + 1))
    started = time.perf_counter()
    result = session.request("tools/call", {"name": "execute_python_code", "arguments": {
        "sandbox_id": sandbox_id, "code": ANALYSIS}})["structuredContent"]
    ms = (time.perf_counter() - started) * 1000
    print(textwrap.indent(result.get("output", ""), "  "), end="")
    if not result.get("success"):
        sys.exit("analysis failed:\n" + (result.get("error") or ""))
    print("  (exit code %d, %.0f ms)" % (result["exit_code"], ms))

    print("\n> execute_python_code(sandbox_id=%s, code=<a second execution>)"
          % json.dumps(sandbox_id))
    result = session.request("tools/call", {"name": "execute_python_code", "arguments": {
        "sandbox_id": sandbox_id, "code": FOLLOW_UP}})["structuredContent"]
    print(textwrap.indent(result.get("output", ""), "  "), end="")
    if not result.get("success"):
        sys.exit("follow-up failed:\n" + (result.get("error") or ""))

    print("\n> execute_python_code(sandbox_id=%s, code=<import socket; connect to 127.0.0.1>)"
          % json.dumps(sandbox_id))
    result = session.request("tools/call", {"name": "execute_python_code", "arguments": {
        "sandbox_id": sandbox_id, "code": DANGEROUS}})["structuredContent"]
    if result.get("success"):
        sys.exit("the static check accepted code that imports socket")
    print("  rejected before running: " + result.get("error", ""))

    removed, _ = session.call("remove_sandbox", sandbox_id=sandbox_id, force=True)
    print("  " + removed.get("message", removed.get("error", "")))


def summarize_demographics(result):
    """Return a few lines from the demographics analysis: each breakdown
    with its first ten groups."""
    lines = []
    analysis = result.get("result", result)
    for key, value in analysis.items():
        if not isinstance(value, list) or not value or not isinstance(value[0], dict):
            continue
        parts = []
        for row in value[:10]:
            label = next((str(v) for k, v in row.items()
                          if k.endswith("name") or k in ("decade", "year_of_birth_decade")), None)
            count = next((v for k, v in row.items() if k in ("persons", "count", "n")), None)
            parts.append("%s %s" % (label if label is not None else "?", count))
        if len(value) > 10:
            parts.append("and %d more" % (len(value) - 10))
        lines.append("%s: %s" % (key, ", ".join(parts)))
    return "\n".join(lines) if lines else json.dumps(analysis)[:600]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="build/omcp")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory with the demo database")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)

    # A new directory for the database, so that no omop.sqlite of the user
    # is touched, and as working directory, so that no .env of the user
    # changes the settings.
    workdir = tempfile.mkdtemp(prefix="omcp-demo-")
    # Code in sandboxes reads the bound database file as an unprivileged
    # user.
    os.chmod(workdir, 0o755)
    db_path = os.path.join(workdir, "omop.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "OMOP_"))}
    # The session shows the default static check at work.
    env.update(DB_BACKEND="sqlite", DB_PATH=db_path, LOG_LEVEL="ERROR", CODE_VALIDATION="strict")
    try:
        print("$ DB_PATH=%s omcp demo-data" % db_path)
        started = time.perf_counter()
        generated = subprocess.run([binary, "demo-data"], env=env, cwd=workdir,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        print(textwrap.indent(generated.stdout.rstrip(), "  "))
        if generated.returncode != 0:
            sys.exit("omcp demo-data failed with status %d:\n%s"
                     % (generated.returncode, generated.stderr))
        print("  (%.0f ms)" % ((time.perf_counter() - started) * 1000))

        session = Session([binary, "serve"], env, workdir)
        init = session.request("initialize", {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "omcp-demo", "version": "1"},
        })
        session.notify("notifications/initialized")
        print("\nConnected to %s %s (MCP %s)" % (init["serverInfo"]["name"],
                                                 init["serverInfo"]["version"],
                                                 init["protocolVersion"]))
        tools = session.request("tools/list")["tools"]
        print("Tools:", ", ".join(tool["name"] for tool in tools))

        fast_path(session)
        sandbox_part(session)

        code = session.close()
        print("\nServer exited with status %d" % code)
        return 0 if code == 0 else 1
    finally:
        if args.keep:
            print("Kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
