#!/usr/bin/env python3
"""Benchmark omcp against bare Python and bubblewrap, and its CDM query
tools against the sqlite3 command-line shell, side by side in one run on
one machine. Prints medians and ratios; asserts nothing."""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PRINT_ONE = "print(1)"
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A typical 50-line analysis input for the code validator, which the last
# line makes it reject, so that no execution is timed with it.
ANALYSIS_50 = "\n".join(
    ["import json", "import math", "import statistics", "import pandas as pd", "import numpy as np",
     "# Summarise a cohort by age group."]
    + ["values_%d = [x * %d for x in range(10) if x %% 3 != 1]  # step %d" % (i, i, i)
       for i in range(20)]
    + ["frame = pd.DataFrame({'age': [34, 51, 67], 'sex': ['F', 'M', 'F']})",
       "means = {}",
       "for column in ['age']:",
       "    means[column] = statistics.mean(frame[column])",
       "def describe(series):",
       "    \"\"\"Return the mean and the standard deviation.\"\"\"",
       "    return {'mean': float(np.mean(series)), 'sd': float(np.std(series))}"]
    + ["result_%d = describe(values_%d)" % (i, i) for i in range(15)]
    + ["print(json.dumps(means, sort_keys=True), math.pi)", "import os"])


class Server:
    def __init__(self, binary, env):
        self.process = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, env=env)
        self.next_id = 1
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.process.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

    def request(self, method, params):
        request_id = self.next_id
        self.next_id += 1
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id,
                                             "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        while True:
            reply = json.loads(self.process.stdout.readline())
            if reply.get("id") == request_id:
                return reply

    def call(self, tool, **arguments):
        reply = self.request("tools/call", {"name": tool, "arguments": arguments})
        if "error" in reply:
            sys.exit("%s failed: %s" % (tool, reply["error"]["message"]))
        result = reply["result"]["structuredContent"]
        if not result.get("success"):
            sys.exit("%s failed: %s" % (tool, result.get("error")))
        return result

    def rss_kib(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def children_rss_kib(self):
        """Total RSS of the supervisors, which are the server's children."""
        total = 0
        pids = set()
        for task in os.listdir("/proc/%d/task" % self.process.pid):
            with open("/proc/%d/task/%s/children" % (self.process.pid, task)) as f:
                pids.update(f.read().split())
        for pid in pids:
            try:
                with open("/proc/%s/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total, len(pids)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


# Marker that the shell prints with .print after each query's output.
SHELL_END = "__omcp_bench_end__"
RUN_TIME = re.compile(r"Run Time: real ([0-9.]+) user ([0-9.]+) sys ([0-9.]+)")


class SqliteShell:
    """One sqlite3 command-line shell with `.timer on`, fed through pipes."""

    def __init__(self, db_path):
        self.process = subprocess.Popen(["sqlite3", "-readonly", "-batch", db_path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.run(".timer on")

    def run(self, sql):
        """Run SQL and return (round trip ms, the shell's own real ms or
        None, output lines)."""
        start = time.perf_counter()
        self.process.stdin.write("%s\n.print %s\n" % (sql, SHELL_END))
        self.process.stdin.flush()
        lines = []
        while True:
            line = self.process.stdout.readline()
            if not line:
                sys.exit("sqlite3 exited: %s" % "".join(lines))
            if line.rstrip("\n") == SHELL_END:
                break
            lines.append(line)
        elapsed_ms = (time.perf_counter() - start) * 1000
        real_ms = None
        for line in lines:
            match = RUN_TIME.search(line)
            if match:
                real_ms = float(match.group(1)) * 1000
        return elapsed_ms, real_ms, [l for l in lines if not RUN_TIME.search(l)]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def run_quiet(argv):
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)


def bwrap_argv(python):
    # The same layers omcp builds, as far as bubblewrap's options go:
    # every namespace, read-only /usr, fresh /proc, minimal /dev, tmpfs
    # /tmp and /sandbox, uid 1000, no capabilities, a new session and a
    # clean environment. bubblewrap takes a seccomp filter only as
    # compiled BPF, so this comparison runs it without one.
    return ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/sandbox",
            "--chdir", "/sandbox", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
            "--clearenv", "--setenv", "HOME", "/sandbox", "--setenv", "LANG", "C.UTF-8",
            python, "-I", "-c", PRINT_ONE]


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s, %s" % (cpu, os.cpu_count(), platform.release(),
                                           platform.python_implementation())

def find_synthea_zip():
    """Return $OMCP_SYNTHEA_ZIP, or the Synthea27Nj export beside the
    repository or beside the directory of a git worktree, as the tests
    find it."""
    if os.environ.get("OMCP_SYNTHEA_ZIP"):
        return os.environ["OMCP_SYNTHEA_ZIP"]
    relative = os.path.join("shared", "omop", "synthea27nj", "Synthea27Nj_5.4.zip")
    for base in (os.path.dirname(REPOSITORY), os.path.dirname(os.path.dirname(REPOSITORY)),
                 "/work"):
        if os.path.exists(os.path.join(base, relative)):
            return os.path.join(base, relative)
    return os.path.join(os.path.dirname(REPOSITORY), relative)


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def bench_data(binary, reps, synthea_zip):
    """Compare the CDM query tools over stdio with the sqlite3 shell on the
    demo CDM, and time `omcp cdm load` of the Synthea27Nj export. Returns
    the lines to print."""
    lines = []
    if not shutil.which("sqlite3"):
        return ["CDM queries: skipped, the sqlite3 shell is not installed "
                "(apt-get install sqlite3)"]
    workdir = tempfile.mkdtemp(prefix="omcp-bench-")
    # Sandboxes bind the database file from their own user namespace,
    # whose ids cannot enter a directory of mode 0700.
    os.chmod(workdir, 0o755)
    try:
        db_path = os.path.join(workdir, "demo.sqlite")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
        env.update(DB_BACKEND="sqlite", DB_PATH=db_path)
        subprocess.run([binary, "demo-data"], env=env, cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # At the default level INFO, as in production: every query writes
        # its audit record to the log, which goes to /dev/null here.
        server = Server(binary, dict(env, LOG_LEVEL="INFO"))
        shell = SqliteShell(db_path)
        persons = [int(row[0]) for row in server.call(
            "Select_Query", query="SELECT person_id FROM omop_cdm.person")["rows"]]

        # Lookup of one person by primary key, a different person each
        # time, interleaved with the same query in one shell process and
        # in a new shell process per query.
        lookup = {"omcp": [], "shell_pipe": [], "shell_real": [], "shell_process": []}
        for i in range(5):
            server.call("query_omop_table", table_name="person", filters={"person_id": persons[i]})
        for i in range(reps):
            person_id = persons[i % len(persons)]
            sql = "SELECT * FROM person WHERE person_id = %d LIMIT 101;" % person_id
            lookup["omcp"].append(timed(lambda: server.call(
                "query_omop_table", table_name="person", filters={"person_id": person_id})))
            pipe_ms, real_ms, _ = shell.run(sql)
            lookup["shell_pipe"].append(pipe_ms)
            lookup["shell_real"].append(real_ms)
            if i < reps // 5:
                lookup["shell_process"].append(timed(lambda: subprocess.run(
                    ["sqlite3", "-readonly", db_path, sql], stdout=subprocess.DEVNULL,
                    check=True)))

        # Measurements per concept: an aggregate over the whole table.
        aggregate_sql = ("SELECT measurement_concept_id, COUNT(*) AS n FROM %s "
                         "GROUP BY 1 ORDER BY 2 DESC")
        aggregate = {"omcp": [], "shell_pipe": [], "shell_real": [], "shell_process": []}
        expected = server.call("Select_Query", query=aggregate_sql % "omop_cdm.measurement")
        _, _, shell_rows = shell.run(aggregate_sql % "measurement" + ";")
        if len(shell_rows) != expected["count"]:
            sys.exit("the aggregate returned %d rows through omcp and %d in the shell"
                     % (expected["count"], len(shell_rows)))
        for i in range(reps):
            aggregate["omcp"].append(timed(lambda: server.call(
                "Select_Query", query=aggregate_sql % "omop_cdm.measurement")))
            pipe_ms, real_ms, _ = shell.run(aggregate_sql % "measurement" + ";")
            aggregate["shell_pipe"].append(pipe_ms)
            aggregate["shell_real"].append(real_ms)
            if i < reps // 5:
                aggregate["shell_process"].append(timed(lambda: subprocess.run(
                    ["sqlite3", "-readonly", db_path, aggregate_sql % "measurement"],
                    stdout=subprocess.DEVNULL, check=True)))
        measurements = server.call("describe_table", table_name="measurement")["row_count"]
        shell.close()
        server.close()

        def figures(name, samples, target):
            omcp_ms = statistics.median(samples["omcp"])
            pipe_ms = statistics.median(samples["shell_pipe"])
            real_median = statistics.median(samples["shell_real"])
            real_mean = statistics.mean(samples["shell_real"])
            process_ms = statistics.median(samples["shell_process"])
            out = [name,
                   "  %-52s %8.3f ms   %s" % ("omcp round trip over stdio (median)", omcp_ms,
                                               target(omcp_ms, real_mean)),
                   "  %-52s %8.3f ms   median %.3f ms, timer resolution 1 ms"
                   % ("sqlite3 shell .timer real, one process (mean)", real_mean, real_median),
                   "  %-52s %8.3f ms   ratio omcp / shell %.2f"
                   % ("sqlite3 shell round trip over pipes, one process", pipe_ms,
                      omcp_ms / pipe_ms),
                   "  %-52s %8.3f ms   (%d runs, includes process start)"
                   % ("sqlite3 shell, one process per query", process_ms,
                      len(samples["shell_process"]))]
            return out

        lines.append("CDM queries on the demo CDM (SQLite, %d persons, %d measurements), "
                     "%d repetitions, interleaved:" % (len(persons), measurements, reps))
        lines += figures("query_omop_table(person, filters={person_id: N})", lookup,
                         lambda ms, shell_ms: "(target <= 1 ms)")
        lines += figures("Select_Query measurements per concept (GROUP BY, ORDER BY)", aggregate,
                         lambda ms, shell_ms: "ratio %.2f x shell .timer (target <= 1.5)"
                         % (ms / shell_ms if shell_ms else float("inf")))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    lines.append("")
    lines += bench_load(binary, synthea_zip)
    return lines


LOADED = re.compile(r"Loaded (\d+) rows from (\d+) files in ([0-9.]+) s")


def bench_load(binary, synthea_zip, runs=3):
    """Time `omcp cdm load` of the Synthea27Nj zip into a new SQLite file,
    RUNS times."""
    if not os.path.exists(synthea_zip):
        return ["Synthea27Nj load: skipped, %s is missing" % synthea_zip]
    walls, rates, rows = [], [], 0
    for _ in range(runs):
        workdir = tempfile.mkdtemp(prefix="omcp-bench-load-")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
            env.update(DB_BACKEND="sqlite", DB_PATH=os.path.join(workdir, "cdm.sqlite"),
                       LOG_LEVEL="ERROR")
            start = time.perf_counter()
            done = subprocess.run([binary, "cdm", "load", synthea_zip], env=env, cwd=workdir,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            wall_s = time.perf_counter() - start
            match = LOADED.search(done.stdout)
            if done.returncode != 0 or not match:
                return ["Synthea27Nj load: omcp cdm load failed (status %d): %s"
                        % (done.returncode, done.stdout.strip()[-300:])]
            rows = int(match.group(1))
            walls.append(wall_s)
            rates.append(rows / float(match.group(3)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = statistics.median(walls)
    return ["Synthea27Nj load into SQLite (omcp cdm load of the .zip, median of %d runs):" % runs,
            "  %-52s %8.2f s    %8.0f rows/s (target >= 100000)"
            % ("%d rows, whole process" % rows, wall, rows / wall),
            "  %-52s %8.0f rows/s" % ("as omcp cdm load reports it (load only)",
                                       statistics.median(rates))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="build/omcp")
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--idle", type=int, default=50, help="idle sandboxes for the memory figure")
    parser.add_argument("--query-repetitions", type=int, default=500,
                        help="repetitions of each CDM query")
    parser.add_argument("--synthea", default=find_synthea_zip(),
                        help="the Synthea27Nj OMOP CDM v5.4 .zip to time the loader with "
                             "(default $OMCP_SYNTHEA_ZIP, or shared/omop/synthea27nj/ beside "
                             "the repository or beside a worktree's directory)")
    parser.add_argument("--only", choices=["sandbox", "data"],
                        help="run only the sandbox or only the CDM data benchmark")
    args = parser.parse_args()
    reps = max(args.repetitions, 50)
    python = "/usr/bin/python3"
    binary = os.path.abspath(args.binary)

    print("machine: %s" % machine_description())
    if args.only != "data":
        bench_sandbox(args, binary, reps, python)
    if args.only != "sandbox":
        print()
        for line in bench_data(binary, max(args.query_repetitions, 50),
                               os.path.abspath(args.synthea)):
            print(line)
    return 0


def bench_sandbox(args, binary, reps, python):
    """Measure sandbox creation, execution and memory, and print them."""

    env = dict(os.environ, MAX_SANDBOXES=str(args.idle + 5), LOG_LEVEL="ERROR")
    server = Server(binary, env)

    # Memory of the idle server before any sandbox exists.
    rss_empty = server.rss_kib()

    # create_sandbox round trip; each sandbox is removed outside the timing.
    created = []

    def create():
        created.append(server.call("create_sandbox")["sandbox_id"])

    server.call("remove_sandbox", sandbox_id=server.call("create_sandbox")["sandbox_id"], force=True)
    create_samples = []
    for _ in range(reps):
        start = time.perf_counter()
        create()
        create_samples.append((time.perf_counter() - start) * 1000)
        server.call("remove_sandbox", sandbox_id=created.pop(), force=True)
    create_ms = statistics.median(create_samples)

    # execute_python_code round trip against bare Python and bubblewrap,
    # interleaved so that a change in machine load affects all three alike.
    sandbox_id = server.call("create_sandbox")["sandbox_id"]
    server.call("execute_python_code", sandbox_id=sandbox_id, code=PRINT_ONE)
    candidates = {
        "omcp": lambda: server.call("execute_python_code", sandbox_id=sandbox_id, code=PRINT_ONE),
        "bare": lambda: run_quiet([python, "-I", "-c", PRINT_ONE]),
    }
    if shutil.which("bwrap"):
        candidates["bwrap"] = lambda: run_quiet(bwrap_argv(python))
    samples = {name: [] for name in candidates}
    for _ in range(reps):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    exec_ms = statistics.median(samples["omcp"])
    bare_ms = statistics.median(samples["bare"])
    bwrap_ms = statistics.median(samples["bwrap"]) if "bwrap" in samples else None
    server.call("remove_sandbox", sandbox_id=sandbox_id, force=True)

    # The warm code validator: a rejected execute_python_code round trip
    # (checked, never run) minus a ping tool round trip, interleaved.
    validator_ms = None
    rejected = server.request("tools/call", {"name": "execute_python_code", "arguments": {
        "sandbox_id": "none", "code": ANALYSIS_50}})["result"]["structuredContent"]
    if rejected.get("error", "").startswith("Security Violation: import of 'os'"):
        check_samples, ping_samples = [], []
        for _ in range(reps * 10):
            start = time.perf_counter()
            server.request("tools/call", {"name": "execute_python_code", "arguments": {
                "sandbox_id": "none", "code": ANALYSIS_50}})
            check_samples.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            server.call("ping")
            ping_samples.append((time.perf_counter() - start) * 1000)
        validator_ms = statistics.median(check_samples) - statistics.median(ping_samples)

    # Memory with idle sandboxes.
    idle = [server.call("create_sandbox")["sandbox_id"] for _ in range(args.idle)]
    time.sleep(0.5)
    rss_idle = server.rss_kib()
    supervisors_kib, supervisors = server.children_rss_kib()
    for sid in idle:
        server.call("remove_sandbox", sandbox_id=sid, force=True)
    server.close()

    print("Sandboxes, medians of %d repetitions:" % reps)
    print()
    print("%-44s %10s" % ("measure", "value"))
    print("%-44s %8.2f ms   (target <= 10 ms)" % ("create_sandbox round trip", create_ms))
    print("%-44s %8.2f ms" % ("bare python3 -I -c 'print(1)'", bare_ms))
    print("%-44s %8.2f ms   ratio %.2f x bare (target <= 1.3)"
          % ("execute_python_code 'print(1)' round trip", exec_ms, exec_ms / bare_ms))
    if bwrap_ms is not None:
        print("%-44s %8.2f ms   ratio %.2f x bare"
              % ("bubblewrap, same layers, 'print(1)'", bwrap_ms, bwrap_ms / bare_ms))
        print("%-44s %8.2f    (omcp / bubblewrap)" % ("", exec_ms / bwrap_ms))
    else:
        print("bubblewrap: not installed (apt-get install bubblewrap)")
    if validator_ms is not None:
        print("%-44s %8.2f ms   (target < 2 ms; %d lines, rejected round trip - ping)"
              % ("code validator, warm, 50-line input", validator_ms,
                 ANALYSIS_50.count("\n") + 1))
    else:
        print("code validator: off (CODE_VALIDATION=off)")
    print("%-44s %8.2f MiB" % ("server RSS, no sandbox", rss_empty / 1024))
    budget = 10 + args.idle
    print("%-44s %8.2f MiB   (target <= %d MiB)"
          % ("server RSS, %d idle sandboxes" % args.idle, rss_idle / 1024, budget))
    if supervisors:
        print("%-44s %8.2f MiB   (%d supervisor processes, outside the server)"
              % ("supervisor RSS per idle sandbox", supervisors_kib / 1024 / supervisors,
                 supervisors))


if __name__ == "__main__":
    sys.exit(main())
