#!/usr/bin/python3
"""Resource limit and lifetime tests: timeouts, the pids, memory, CPU and
output limits, busy sandboxes, concurrency, removal, shutdown and idle
reaping."""

import errno
import json
import os
import pathlib
import signal
import time

import omcp_client
from omcp_client import ServerTestCase

MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
PIDS_LIMIT = 50
OUTPUT_LIMIT_BYTES = 1048576

SPAWN_MARKED_CHILD = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {marker}])
print("spawned", flush=True)
time.sleep({seconds})
"""

# Forks a child that starts a new session and forks again, so that the
# grandchild belongs to neither the process group nor the session of the
# execution. The grandchild closes its standard streams.
DOUBLE_FORK = """
import os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execv(sys.executable, [sys.executable, "-c",
                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                 "time.sleep(600)", {marker}])
    os._exit(0)
os.waitpid(pid, 0)
print("spawned", flush=True)
time.sleep({seconds})
"""


def descendants(root_pid):
    """Return the live pids below ROOT_PID in the host process tree."""
    children = {}
    for pid in omcp_client.all_pids():
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(pid)
    found = []
    pending = [root_pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if omcp_client.is_alive(child):
                found.append(child)
            pending.append(child)
    return found


def server_cgroup_dirs(server_pid):
    """Return cgroup directories named after SERVER_PID, four levels deep at most."""
    name = f"omcp-{server_pid}"
    found = []
    root = pathlib.Path("/sys/fs/cgroup")
    pending = [(root, 0)]
    while pending:
        directory, depth = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if entry.name == name:
                found.append(entry.path)
            elif depth < 4:
                pending.append((pathlib.Path(entry.path), depth + 1))
    return found


def cpu_quota_ratio(pid):
    """Return the smallest CFS quota/period ratio on the cgroup v1 path of PID."""
    relative = omcp_client.cgroup_v1_path(pid, "cpu")
    if relative is None:
        return None
    mount = pathlib.Path("/sys/fs/cgroup/cpu")
    directory = mount / relative.lstrip("/")
    ratios = []
    while True:
        try:
            quota = int((directory / "cpu.cfs_quota_us").read_text())
            period = int((directory / "cpu.cfs_period_us").read_text())
            if quota > 0:
                ratios.append(quota / period)
        except (OSError, ValueError):
            pass
        if directory == mount:
            break
        directory = directory.parent
    return min(ratios) if ratios else None


class Timeouts(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        self.sandbox_id = self.new_sandbox(self.server)

    def run_marked(self, template, timeout, seconds):
        marker = omcp_client.unique_marker()
        code = template.format(marker=omcp_client.marker_literal(marker), seconds=seconds)
        request_id = self.server.start_tool_call("execute_python_code", {
            "sandbox_id": self.sandbox_id, "code": code, "timeout": timeout})
        self.wait_for_processes(marker)
        return marker, self.server.tool_result(request_id, timeout=timeout + 60)

    def test_timeout_kills_double_forked_grandchild(self):
        marker, result = self.run_marked(DOUBLE_FORK, timeout=3, seconds=600)
        self.assertIs(result.get("timed_out"), True, f"result: {result!r}")
        self.assertEqual(result.get("exit_code"), 124)
        self.assertIs(result.get("success"), False)
        self.assertEqual(result.get("output"), "spawned\n")
        self.assertLess(result.get("duration_ms", 0), 10000)
        self.assert_no_processes(marker, "after the timeout")

    def test_timeout_kills_plain_child(self):
        marker, result = self.run_marked(SPAWN_MARKED_CHILD, timeout=2, seconds=600)
        self.assertIs(result.get("timed_out"), True, f"result: {result!r}")
        self.assertEqual(result.get("exit_code"), 124)
        self.assert_no_processes(marker, "after the timeout")

    def test_normal_exit_kills_background_processes(self):
        marker, result = self.run_marked(DOUBLE_FORK, timeout=60, seconds=2)
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.assertEqual(result.get("exit_code"), 0)
        self.assertLess(result.get("duration_ms", 0), 20000,
                        "the execution waited for its background process")
        self.assert_no_processes(marker, "after the execution returned")

    def test_sandbox_reusable_after_timeout(self):
        self.run_marked(DOUBLE_FORK, timeout=2, seconds=600)
        result = self.server.execute(self.sandbox_id, "print('next')")
        self.assertEqual(result.get("output"), "next\n", f"result: {result!r}")


class ProcessLimit(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        self.sandbox_id = self.new_sandbox(self.server)

    def test_fork_fails_before_pids_limit(self):
        info = self.run_json(self.server, self.sandbox_id, """
import errno, json, os, signal, time
children = []
error = None
for _ in range(200):
    try:
        pid = os.fork()
    except OSError as e:
        error = e.errno
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    children.append(pid)
count = len(children)
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps({"count": count, "errno": error}))
""", timeout=60)
        self.assertEqual(info["errno"], errno.EAGAIN, f"fork failed with errno {info['errno']}")
        self.assertLess(info["count"], PIDS_LIMIT, f"forked {info['count']} children")
        self.assertGreaterEqual(info["count"], 20, f"forked only {info['count']} children")

    def test_fork_bomb_contained(self):
        supervisor = omcp_client.sandbox_supervisors()[self.sandbox_id]
        baseline = len(descendants(supervisor))
        request_id = self.server.start_tool_call("execute_python_code", {
            "sandbox_id": self.sandbox_id,
            "code": "import os\nwhile True:\n    try:\n        os.fork()\n"
                    "    except OSError:\n        pass\n",
            "timeout": 5})
        time.sleep(2)
        during = len(descendants(supervisor))
        self.assertGreater(during, baseline + 10, "the fork bomb did not start")
        started = time.monotonic()
        ping = self.server.request("ping", timeout=10)
        self.assertEqual(ping.get("result"), {}, "ping during the fork bomb failed")
        self.assertLess(time.monotonic() - started, 2, "ping was slow during the fork bomb")

        result = self.server.tool_result(request_id, timeout=90)
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertTrue(result.get("timed_out") or result.get("sandbox_destroyed"),
                        f"result: {result!r}")
        left = omcp_client.wait_until(
            lambda: len(descendants(supervisor)) <= baseline, omcp_client.KILL_GRACE_SECONDS)
        self.assertTrue(left, f"fork bomb processes left: {len(descendants(supervisor))}")

        if result.get("sandbox_destroyed"):
            sandbox_id = self.new_sandbox(self.server)
        else:
            sandbox_id = self.sandbox_id
        after = self.server.execute(sandbox_id, "print('alive')")
        self.assertEqual(after.get("output"), "alive\n", f"after the bomb: {after!r}")


class MemoryLimit(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        self.sandbox_id = self.new_sandbox(self.server)

    def test_allocation_below_limit_works(self):
        result = self.server.execute(self.sandbox_id,
                                     "block = b'x' * (300 * 1024 * 1024)\nprint(len(block))\n")
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.assertEqual(result.get("output"), f"{300 * 1024 * 1024}\n")

    def test_memory_bomb_killed(self):
        started = time.monotonic()
        result = self.server.execute(self.sandbox_id,
                                     "chunks = []\n"
                                     "for i in range(64):\n"
                                     "    chunks.append(b'x' * (64 * 1024 * 1024))\n"
                                     "    print(i, flush=True)\n",
                                     timeout=120, rpc_timeout=180)
        self.assertLess(time.monotonic() - started, 120, "the memory bomb ran to the timeout")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIs(result.get("timed_out"), False, f"result: {result!r}")
        self.assertTrue(result.get("exit_code") == 137 or result.get("sandbox_destroyed"),
                        f"result: {result!r}")
        self.assertTrue(result.get("error"), "no message explains the kill")
        printed = result.get("output", "").split()
        if printed:
            self.assertLess(int(printed[-1]), 9, f"allocated {int(printed[-1]) + 1} x 64 MiB")

        self.assertEqual(self.server.request("ping").get("result"), {})
        if result.get("sandbox_destroyed"):
            sandbox_id = self.new_sandbox(self.server)
        else:
            sandbox_id = self.sandbox_id
        after = self.server.execute(sandbox_id, "print('alive')")
        self.assertEqual(after.get("output"), "alive\n", f"after the bomb: {after!r}")


class CgroupLimits(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = omcp_client.McpServer()
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        sandbox_id = cls.server.create_sandbox()
        cls.marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(cls.marker),
                                         seconds=120)
        cls.server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 150})
        pids = omcp_client.wait_until(lambda: omcp_client.pids_with_marker(cls.marker), 20)
        cls.pid = pids[0] if pids else None


    def setUp(self):
        if omcp_client.cgroup_version() != 1:
            self.skipTest("these checks read cgroup v1 files")
        self.assertIsNotNone(self.pid, "the sandboxed process did not start")

    def test_memory_limit(self):
        limit = omcp_client.cgroup_v1_limit(self.pid, "memory", "memory.limit_in_bytes")
        self.assertEqual(limit, MEMORY_LIMIT_BYTES)

    def test_pids_limit(self):
        limit = omcp_client.cgroup_v1_limit(self.pid, "pids", "pids.max")
        self.assertEqual(limit, PIDS_LIMIT)

    def test_cpu_quota(self):
        self.assertAlmostEqual(cpu_quota_ratio(self.pid), 0.5, places=2)

    def test_not_in_server_cgroup(self):
        for controller in ("memory", "pids", "cpu"):
            with self.subTest(controller=controller):
                self.assertNotEqual(omcp_client.cgroup_v1_path(self.pid, controller),
                                    omcp_client.cgroup_v1_path(self.server.pid, controller),
                                    "sandboxed code shares the server's cgroup")


class CpuLimit(ServerTestCase):

    def test_busy_loop_gets_half_a_cpu(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        info = self.run_json(server, sandbox_id, """
import json, time
wall_start = time.monotonic()
cpu_start = time.process_time()
while time.monotonic() - wall_start < 4:
    pass
print(json.dumps({"wall": time.monotonic() - wall_start,
                  "cpu": time.process_time() - cpu_start}))
""", timeout=30)
        ratio = info["cpu"] / info["wall"]
        self.assertLessEqual(ratio, 0.65, f"the loop got {ratio:.2f} of a CPU")
        self.assertGreaterEqual(ratio, 0.2, f"the loop got only {ratio:.2f} of a CPU")


class OutputLimit(ServerTestCase):

    def test_stdout_capped(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        started = time.monotonic()
        result = server.execute(sandbox_id,
                                "import sys, time\n"
                                "for _ in range(2048):\n"
                                "    sys.stdout.write('x' * 1024)\n"
                                "sys.stdout.flush()\n"
                                "time.sleep(60)\n", timeout=120)
        self.assertLess(time.monotonic() - started, 30, "the capped execution was not killed")
        self.assertIs(result.get("output_truncated"), True,
                      f"exit_code={result.get('exit_code')} timed_out={result.get('timed_out')}")
        self.assertEqual(result.get("exit_code"), 137)
        self.assertIs(result.get("success"), False)
        output = result.get("output", "")
        self.assertLessEqual(len(output.encode()), OUTPUT_LIMIT_BYTES)
        self.assertGreaterEqual(len(output), 512 * 1024, "the output so far was not returned")
        self.assertEqual(output.strip("x"), "", "the output holds other text than the program's")

    def test_stderr_capped(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id,
                                "import sys, time\n"
                                "for _ in range(2048):\n"
                                "    sys.stderr.write('e' * 1024)\n"
                                "sys.stderr.flush()\n"
                                "time.sleep(60)\n", timeout=120)
        self.assertIs(result.get("output_truncated"), True,
                      f"exit_code={result.get('exit_code')} timed_out={result.get('timed_out')}")
        self.assertEqual(result.get("exit_code"), 137)
        self.assertLessEqual(len(result.get("error", "").encode()), OUTPUT_LIMIT_BYTES + 4096)

    def test_configured_cap(self):
        server = self.start_server(env={"EXECUTION_MAX_OUTPUT_BYTES": "2000"})
        sandbox_id = self.new_sandbox(server)
        small = server.execute(sandbox_id, "print('a' * 1899)")
        self.assertIs(small.get("output_truncated"), False, f"1900 bytes: {small!r}")
        self.assertEqual(small.get("output"), "a" * 1899 + "\n")
        large = server.execute(sandbox_id, "print('b' * 5000)")
        self.assertIs(large.get("output_truncated"), True, "5000 bytes were not truncated")
        self.assertLessEqual(len(large.get("output", "")), 2000)
        self.assertEqual(large.get("exit_code"), 137)

        # The cap falls inside a two-byte character, which must not break the JSON.
        split = server.execute(sandbox_id, "print('a' + '\u00e9' * 5000)")
        self.assertIs(split.get("output_truncated"), True, f"result: {split!r}")
        output = split.get("output", "")
        self.assertTrue(output.startswith("a\u00e9"), f"output starts {output[:10]!r}")
        self.assertLessEqual(set(output[1:]), {"\u00e9", "\ufffd"},
                             f"unexpected characters: {set(output[1:])!r}")


    def test_streams_share_cap(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        result = server.execute(sandbox_id,
                                "import sys, time\n"
                                "for _ in range(600):\n"
                                "    sys.stdout.write('o' * 1024)\n"
                                "    sys.stderr.write('e' * 1024)\n"
                                "sys.stdout.flush()\nsys.stderr.flush()\n"
                                "time.sleep(60)\n", timeout=120)
        self.assertIs(result.get("output_truncated"), True,
                      f"1.2 MB over both streams: exit_code={result.get('exit_code')}")
        self.assertEqual(result.get("exit_code"), 137)


class BrokenSandbox(ServerTestCase):

    def assert_reported(self, result):
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertTrue(result.get("sandbox_destroyed") or result.get("exit_code") == 137,
                        f"result: {result!r}")
        self.assertTrue(result.get("error"), f"no message explains the failure: {result!r}")

    def test_dead_supervisor_reported(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        supervisor = omcp_client.sandbox_supervisors()[sandbox_id]
        os.kill(supervisor, signal.SIGKILL)
        omcp_client.wait_until(lambda: not omcp_client.is_alive(supervisor), 5)

        started = time.monotonic()
        result = server.execute(sandbox_id, "print(1)", rpc_timeout=60)
        self.assertLess(time.monotonic() - started, 15, "the execution hung")
        self.assert_reported(result)

        other = self.new_sandbox(server)
        after = server.execute(other, "print('alive')")
        self.assertEqual(after.get("output"), "alive\n", f"new sandbox: {after!r}")

    def test_supervisor_killed_during_execution(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        supervisor = omcp_client.sandbox_supervisors()[sandbox_id]
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=600)
        pending = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 300})
        self.wait_for_processes(marker)

        os.kill(supervisor, signal.SIGKILL)
        result = server.tool_result(pending, timeout=15)
        self.assert_reported(result)
        self.assert_no_processes(marker, "after the supervisor died")
        self.assertEqual(server.request("ping").get("result"), {})


class HostileCode(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        self.sandbox_id = self.new_sandbox(self.server)

    def test_killing_pid_one_fails(self):
        info = self.run_json(self.server, self.sandbox_id,
                             "import json, os, signal, time\n"
                             "try:\n"
                             "    os.kill(1, signal.SIGKILL)\n"
                             "    outcome = 'sent'\n"
                             "except OSError as e:\n"
                             "    outcome = e.errno\n"
                             "time.sleep(0.5)\n"
                             "print(json.dumps(outcome))\n")
        self.assertIn(info, ("sent", errno.EPERM), f"kill(1): {info!r}")
        self.assertIn(self.sandbox_id, omcp_client.sandbox_supervisors(),
                      "code inside the sandbox killed its supervisor")
        after = self.server.execute(self.sandbox_id, "print('alive')")
        self.assertEqual(after.get("output"), "alive\n", f"after kill(1): {after!r}")

    def test_kill_all_processes_survived(self):
        result = self.server.execute(self.sandbox_id,
                                     "import os, signal\nos.kill(-1, signal.SIGKILL)\n"
                                     "import time\ntime.sleep(5)\n", timeout=30)
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn(self.sandbox_id, omcp_client.sandbox_supervisors(),
                      "kill(-1) inside the sandbox killed its supervisor")
        after = self.server.execute(self.sandbox_id, "print('alive')")
        self.assertEqual(after.get("output"), "alive\n", f"after kill(-1): {after!r}")


class BusySandbox(ServerTestCase):

    def test_second_execution_rejected(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=5)
        first = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 60})
        self.wait_for_processes(marker)

        started = time.monotonic()
        second = server.execute(sandbox_id, "print('second')")
        self.assertLess(time.monotonic() - started, 3, "the second execution waited")
        self.assertEqual(second.get("exit_code"), 75, f"second: {second!r}")
        self.assertIs(second.get("success"), False)
        self.assertIn("already executing", second.get("error", ""))

        result = server.tool_result(first, timeout=60)
        self.assertIs(result.get("success"), True, f"first: {result!r}")
        self.assertEqual(result.get("output"), "spawned\n")


class Concurrency(ServerTestCase):

    def test_two_sandboxes_overlap(self):
        server = self.start_server()
        sandboxes = [self.new_sandbox(server), self.new_sandbox(server)]
        code = ("import json, time\n"
                "start = time.time()\ntime.sleep(3)\n"
                "print(json.dumps([start, time.time()]))\n")
        started = time.monotonic()
        requests = [server.start_tool_call("execute_python_code",
                                           {"sandbox_id": sandbox_id, "code": code})
                    for sandbox_id in sandboxes]
        intervals = []
        for request_id in requests:
            result = server.tool_result(request_id, timeout=60)
            self.assertIs(result.get("success"), True, f"result: {result!r}")
            intervals.append(json.loads(result["output"]))
        elapsed = time.monotonic() - started
        latest_start = max(start for start, _ in intervals)
        earliest_end = min(end for _, end in intervals)
        self.assertLess(latest_start, earliest_end, f"executions ran one after the other: "
                        f"{intervals}")
        self.assertLess(elapsed, 5.5, f"two 3-second executions took {elapsed:.1f} s")

    def test_long_execution_does_not_block(self):
        server = self.start_server()
        slow_sandbox = self.new_sandbox(server)
        other_sandbox = self.new_sandbox(server)
        slow = server.start_tool_call("execute_python_code", {
            "sandbox_id": slow_sandbox, "code": "import time; time.sleep(30); print('slow')",
            "timeout": 60})
        time.sleep(1)

        checks = [
            ("ping request", lambda: server.request("ping", timeout=30)),
            ("ping tool", lambda: server.call_tool("ping", timeout=30)),
            ("list_sandboxes", lambda: server.call_tool("list_sandboxes", timeout=30)),
        ]
        for name, call in checks:
            with self.subTest(call=name):
                started = time.monotonic()
                call()
                self.assertLess(time.monotonic() - started, 1, f"{name} waited")
        started = time.monotonic()
        other = server.execute(other_sandbox, "print('other')")
        self.assertEqual(other.get("output"), "other\n", f"other sandbox: {other!r}")
        self.assertLess(time.monotonic() - started, 5, "the other sandbox waited")
        self.assertFalse(server.has_response(slow), "the slow execution ended early")

        result = server.tool_result(slow, timeout=90)
        self.assertIs(result.get("success"), True, f"slow: {result!r}")
        self.assertEqual(result.get("output"), "slow\n")
        self.assertGreaterEqual(result.get("duration_ms", 0), 30000)


class Removal(ServerTestCase):

    def test_remove_kills_running_processes(self):
        server = self.start_server()
        sandbox_id = server.create_sandbox()
        supervisor = omcp_client.sandbox_supervisors()[sandbox_id]
        marker = omcp_client.unique_marker()
        code = DOUBLE_FORK.format(marker=omcp_client.marker_literal(marker), seconds=600)
        pending = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 300})
        self.wait_for_processes(marker)

        result = server.remove_sandbox(sandbox_id, force=True)
        self.assertIs(result.get("success"), True, f"remove: {result!r}")
        self.assert_no_processes(marker, "after remove_sandbox")
        gone = omcp_client.wait_until(lambda: not omcp_client.is_alive(supervisor),
                                      omcp_client.KILL_GRACE_SECONDS)
        self.assertTrue(gone, "the supervisor survived remove_sandbox")
        outcome = server.tool_result(pending, timeout=15)
        self.assertIs(outcome.get("success"), False, f"pending execution: {outcome!r}")


class Shutdown(ServerTestCase):

    def test_stdin_eof_leaves_no_process(self):
        server = self.start_server()
        sandbox_ids = [server.create_sandbox() for _ in range(3)]
        markers = []
        # Two sandboxes execute code when stdin closes, and the third is idle.
        for sandbox_id, template in zip(sandbox_ids, (DOUBLE_FORK, SPAWN_MARKED_CHILD)):
            marker = omcp_client.unique_marker()
            server.start_tool_call("execute_python_code", {
                "sandbox_id": sandbox_id, "timeout": 300,
                "code": template.format(marker=omcp_client.marker_literal(marker),
                                        seconds=600)})
            self.wait_for_processes(marker)
            markers.append(marker)
        tree = descendants(server.pid)
        self.assertTrue(tree, "the server has no child processes")
        self.assertTrue(server_cgroup_dirs(server.pid), "no cgroup named after the server")

        code = server.close(timeout=30)
        self.assertEqual(code, 0, "exit code after stdin EOF\n" + server.stderr_tail())
        for marker in markers:
            self.assert_no_processes(marker, "after the server exited")
        supervisors = omcp_client.sandbox_supervisors()
        for sandbox_id in sandbox_ids:
            self.assertNotIn(sandbox_id, supervisors, f"supervisor of {sandbox_id} survived")
        alive = [pid for pid in tree if omcp_client.is_alive(pid)]
        self.assertEqual(alive, [], f"processes of the server survived: "
                         f"{omcp_client.describe_processes(alive)}")
        self.assertEqual(server_cgroup_dirs(server.pid), [], "the server left cgroups behind")

    def test_second_server_leaves_first_alone(self):
        first = self.start_server()
        sandbox_id = self.new_sandbox(first)
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=8)
        pending = first.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 60})
        pid = self.wait_for_processes(marker)[0]

        second = self.start_server()
        self.new_sandbox(second)
        self.assertEqual(second.close(), 0)

        self.assertTrue(omcp_client.is_alive(pid), "starting another server killed a sandbox")
        if omcp_client.cgroup_version() == 1:
            limit = omcp_client.cgroup_v1_limit(pid, "memory", "memory.limit_in_bytes")
            self.assertEqual(limit, MEMORY_LIMIT_BYTES, "the sandbox lost its memory limit")
        result = first.tool_result(pending, timeout=60)
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.assertEqual(result.get("output"), "spawned\n")
        after = first.execute(sandbox_id, "print('first')")
        self.assertEqual(after.get("output"), "first\n", f"result: {after!r}")


class IdleReaping(ServerTestCase):

    def listed(self, server):
        return {entry["id"] for entry in server.call_tool("list_sandboxes")["sandboxes"]}

    def test_idle_sandbox_reaped(self):
        server = self.start_server(env={"SANDBOX_TIMEOUT": "3"})
        idle = server.create_sandbox()
        busy = server.create_sandbox()
        self.addCleanup(omcp_client.remove_quietly, server, busy)
        supervisor = omcp_client.sandbox_supervisors()[idle]
        self.assertIn(idle, self.listed(server), "the sandbox vanished at once")

        # Keep one sandbox in use while the other stays idle.
        deadline = time.monotonic() + 40
        while idle in self.listed(server) and time.monotonic() < deadline:
            server.execute(busy, "print(1)")
            time.sleep(0.5)
        self.assertNotIn(idle, self.listed(server), "the idle sandbox was not reaped in 40 s")
        self.assertIn(busy, self.listed(server), "the sandbox in use was reaped")
        gone = omcp_client.wait_until(lambda: not omcp_client.is_alive(supervisor), 5)
        self.assertTrue(gone, "the reaped sandbox's supervisor still runs")
        result = server.execute(idle, "print(1)")
        self.assertIn("not found", result.get("error", ""), f"reaped sandbox: {result!r}")

    def test_running_execution_not_reaped(self):
        server = self.start_server(env={"SANDBOX_TIMEOUT": "2"})
        sandbox_id = server.create_sandbox()
        self.addCleanup(omcp_client.remove_quietly, server, sandbox_id)
        result = server.execute(sandbox_id, "import time; time.sleep(8); print('done')",
                                timeout=30)
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.assertEqual(result.get("output"), "done\n")
        self.assertIs(result.get("sandbox_destroyed"), False)

    def test_refused_call_keeps_sandbox_busy(self):
        # A second execution refused as busy must not mark the sandbox idle
        # while the first one still runs.
        server = self.start_server(env={"SANDBOX_TIMEOUT": "2"})
        sandbox_id = server.create_sandbox()
        self.addCleanup(omcp_client.remove_quietly, server, sandbox_id)
        first = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": "import time; time.sleep(8); print('done')",
            "timeout": 30})
        time.sleep(0.5)
        second = server.execute(sandbox_id, "print('second')")
        self.assertEqual(second.get("exit_code"), 75, f"second: {second!r}")
        result = server.tool_result(first, timeout=60)
        self.assertIs(result.get("sandbox_destroyed"), False, f"first: {result!r}")
        self.assertEqual(result.get("output"), "done\n")


if __name__ == "__main__":
    omcp_client.main()
