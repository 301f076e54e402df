#!/usr/bin/env python3
"""A scripted MCP session, as an agent would run it: start `omcp serve`,
create a sandbox, run a short pandas analysis in it, print the results and
clean up. Uses only the Python standard library."""

import argparse
import json
import subprocess
import sys
import time

ANALYSIS = r'''
import numpy as np
import pandas as pd

# A small synthetic cohort: the same seed gives the same numbers every run.
rng = np.random.default_rng(42)
n = 500
cohort = pd.DataFrame({
    "person_id": np.arange(1, n + 1),
    "age": rng.integers(18, 90, n),
    "sex": rng.choice(["female", "male"], n),
    "systolic_bp": rng.normal(128, 17, n).round(),
})
cohort["hypertension"] = cohort["systolic_bp"] >= 140
cohort["age_group"] = pd.cut(cohort["age"], [17, 39, 59, 89], labels=["18-39", "40-59", "60-89"])

summary = (cohort.groupby(["age_group", "sex"], observed=True)
           .agg(persons=("person_id", "count"),
                mean_systolic=("systolic_bp", "mean"),
                hypertension_rate=("hypertension", "mean"))
           .round(2))
print(summary.to_string())
print()
print("Overall hypertension prevalence: {:.1%}".format(cohort["hypertension"].mean()))
cohort.to_csv("cohort.csv", index=False)
'''

FOLLOW_UP = r'''
import pandas as pd
cohort = pd.read_csv("cohort.csv")   # written by the previous execution
print("Rows kept in /sandbox between executions:", len(cohort))
try:
    import socket
    socket.create_connection(("127.0.0.1", 80), timeout=1)
except OSError as error:
    print("Network from the sandbox:", error)
'''


class Session:
    def __init__(self, binary):
        self.process = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
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

    def call(self, tool, **arguments):
        started = time.perf_counter()
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        elapsed_ms = (time.perf_counter() - started) * 1000
        return result["structuredContent"], elapsed_ms

    def close(self):
        self.process.stdin.close()
        return self.process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="build/omcp")
    args = parser.parse_args()

    session = Session(args.binary)
    init = session.request("initialize", {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "omcp-demo", "version": "1"},
    })
    session.notify("notifications/initialized")
    print("Connected to %s %s (MCP %s)" % (init["serverInfo"]["name"],
                                           init["serverInfo"]["version"],
                                           init["protocolVersion"]))
    tools = session.request("tools/list")["tools"]
    print("Tools:", ", ".join(tool["name"] for tool in tools))

    created, ms = session.call("create_sandbox")
    if not created["success"]:
        sys.exit("create_sandbox failed: " + created["error"])
    sandbox_id = created["sandbox_id"]
    print("\nCreated sandbox %s in %.1f ms" % (sandbox_id, ms))

    print("\n--- pandas analysis in the sandbox ---")
    result, ms = session.call("execute_python_code", sandbox_id=sandbox_id, code=ANALYSIS)
    print(result["output"], end="")
    if not result["success"]:
        sys.exit("analysis failed:\n" + result["error"])
    print("(exit code %d, %.0f ms)" % (result["exit_code"], ms))

    print("\n--- a second execution in the same sandbox ---")
    result, ms = session.call("execute_python_code", sandbox_id=sandbox_id, code=FOLLOW_UP)
    print(result["output"], end="")
    if not result["success"]:
        sys.exit("follow-up failed:\n" + result["error"])

    removed, _ = session.call("remove_sandbox", sandbox_id=sandbox_id, force=True)
    print("\n" + removed.get("message", removed.get("error", "")))
    code = session.close()
    print("Server exited with status %d" % code)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
