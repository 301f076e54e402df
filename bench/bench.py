#!/usr/bin/env python3
"""Benchmark omcp against bare Python and bubblewrap, side by side in one
run on one machine. Prints medians and ratios; asserts nothing."""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

PRINT_ONE = "print(1)"

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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="build/omcp")
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--idle", type=int, default=50, help="idle sandboxes for the memory figure")
    args = parser.parse_args()
    reps = max(args.repetitions, 50)
    python = "/usr/bin/python3"

    env = dict(os.environ, MAX_SANDBOXES=str(args.idle + 5), LOG_LEVEL="ERROR")
    server = Server(args.binary, env)

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

    print("omcp benchmark: medians of %d repetitions" % reps)
    print("machine: %s" % machine_description())
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
