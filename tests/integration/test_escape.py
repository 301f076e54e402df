#!/usr/bin/python3
"""Escape-attempt corpus: every program in tests/escape/ runs through
execute_python_code in a fresh sandbox of a real server with the static
code validator off, so that only the sandbox stops the attempt.

Each program states its expected outcome in a header (tests/escape/README.md
describes the format). Besides that outcome, every attempt must leave the
host unchanged: the test's listeners on the host loopback get no traffic,
the test's host directory and a set of host files and kernel settings stay
as they were, the server answers, the sandbox's supervisor and cgroup
limits survive, no process of the attempt outlives it, and the server then
serves another sandbox.
"""

import hashlib
import json
import os
import pathlib
import re
import signal
import socket
import sys
import tempfile
import time
import unittest
import uuid

import omcp_client
from omcp_client import McpServer, ServerTestCase

CORPUS_DIR = omcp_client.REPO_ROOT / "tests" / "escape"
PRELUDE = CORPUS_DIR / "_prelude.py"

HEADER_KEYS = ("escape", "expect", "layer", "timeout", "neighbour")
REQUIRED_KEYS = ("escape", "expect", "layer")
OUTCOMES = ("contained", "timeout", "killed", "destroyed", "truncated", "exit")
DEFAULT_TIMEOUT_S = 20

PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")

# Host kernel settings that an escaped attempt could change. Attempts that
# write under /proc/sys write back the value they read, so that a broken
# sandbox changes nothing there. This snapshot catches every other write.
HOST_SETTINGS = (
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/domainname",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/kernel/sysrq",
    "/proc/sys/kernel/panic",
    "/proc/sys/vm/overcommit_memory",
)

# Host files whose identity and content must not change.
HOST_FILES = ("/etc/passwd", "/etc/shadow", "/etc/hostname", "/usr/bin/python3")

# Seconds the processes of a finished execution get to disappear.
KILL_GRACE_SECONDS = 2.0


def parse_header(path):
    """Return the `# key: value` header of a corpus program as a dict.

    The header is the run of such lines at the top of the file. Raises
    ValueError on a missing or unknown key, so that a typo in a header
    fails the test rather than going unchecked.
    """
    header = {}
    for line in path.read_text().splitlines():
        match = re.match(r"#\s*([a-z]+):\s*(.*\S)\s*$", line)
        if not match:
            break
        key, value = match.groups()
        if key not in HEADER_KEYS:
            raise ValueError(f"{path.name}: unknown header key {key!r}")
        header[key] = value
    for key in REQUIRED_KEYS:
        if key not in header:
            raise ValueError(f"{path.name}: header has no {key!r} line")
    header["outcomes"] = parse_expect(path.name, header["expect"])
    header["timeout"] = int(header.get("timeout", DEFAULT_TIMEOUT_S))
    if header.get("neighbour", "yes") != "yes":
        raise ValueError(f"{path.name}: `neighbour` takes only `yes`")
    header["neighbour"] = "neighbour" in header
    return header


def parse_expect(name, text):
    """Return the accepted outcomes of an `expect` line as (word, number) pairs."""
    outcomes = []
    for alternative in text.split(" or "):
        words = alternative.split()
        if not words or words[0] not in OUTCOMES:
            raise ValueError(f"{name}: unknown outcome {alternative!r}")
        if words[0] == "exit":
            if len(words) != 2 or not words[1].isdigit():
                raise ValueError(f"{name}: `exit` needs one exit code, got {alternative!r}")
            outcomes.append(("exit", int(words[1])))
        else:
            if len(words) != 1:
                raise ValueError(f"{name}: unexpected words in {alternative!r}")
            outcomes.append((words[0], None))
    return outcomes


def outcome_matches(outcome, result):
    """True when the execution RESULT is the outcome (WORD, NUMBER)."""
    word, number = outcome
    destroyed = result.get("sandbox_destroyed") is True
    timed_out = result.get("timed_out") is True
    truncated = result.get("output_truncated") is True
    exit_code = result.get("exit_code")
    plain = not destroyed and not timed_out and not truncated
    if word == "contained":
        lines = result.get("output", "").rstrip("\n").split("\n")
        return plain and exit_code == 0 and lines[-1] == "CONTAINED"
    if word == "timeout":
        return timed_out and not destroyed and exit_code == 124
    if word == "killed":
        return plain and exit_code == 137
    if word == "destroyed":
        return destroyed
    if word == "truncated":
        return truncated and not destroyed and exit_code == 137
    return plain and exit_code == number


def corpus_programs():
    return sorted(path for path in CORPUS_DIR.glob("*.py") if not path.name.startswith("_"))


def file_digest(path):
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError as error:
        return f"error {error.errno}"
    return (st.st_ino, st.st_mode, st.st_uid, st.st_nlink, st.st_mtime_ns, digest)


class HostWatch:
    """Everything on the host side that an attempt must leave untouched:
    listeners on the loopback, a directory with a secret file, and a set of
    host files and kernel settings."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="escape-host-", dir=omcp_client.LOG_DIR))
        self.secret = "host-secret-" + uuid.uuid4().hex
        (self.dir / "secret").write_text(self.secret + "\n")
        os.chmod(self.dir, 0o755)

        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.tcp6 = None
        try:
            self.tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            self.tcp6.bind(("::1", 0))
            self.tcp6.listen(16)
            self.tcp6.setblocking(False)
        except OSError:
            self.tcp6 = None
        self.abstract_name = "omcp-escape-" + uuid.uuid4().hex
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(16)
        self.abstract.setblocking(False)
        self.unix_path = str(self.dir / "listener.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(16)
        self.unix.setblocking(False)
        self.snapshot_before = self.snapshot()

    def close(self):
        for sock in (self.tcp, self.udp, self.tcp6, self.abstract, self.unix):
            if sock is not None:
                sock.close()

    def placeholders(self):
        return {
            "PORT": str(self.tcp.getsockname()[1]),
            "UDP_PORT": str(self.udp.getsockname()[1]),
            "PORT6": str(self.tcp6.getsockname()[1]) if self.tcp6 else "0",
            "ABSTRACT": self.abstract_name,
            "UNIX_SOCKET": self.unix_path,
            "HOST_DIR": str(self.dir),
            "HOST_SECRET": omcp_client.marker_literal(self.secret),
        }

    def snapshot(self):
        state = {}
        for path in sorted(self.dir.iterdir()):
            state[f"host dir {path.name}"] = file_digest(path) if path.is_file() else "exists"
        for path in HOST_SETTINGS:
            try:
                state[path] = pathlib.Path(path).read_text()
            except OSError as error:
                state[path] = f"error {error.errno}"
        for path in HOST_FILES:
            state[path] = file_digest(os.path.realpath(path))
        state["omcp binary"] = file_digest(omcp_client.omcp_binary())
        return state

    def traffic(self):
        """Return a description of every connection or datagram that arrived."""
        arrived = []
        listeners = [("tcp 127.0.0.1", self.tcp), ("tcp ::1", self.tcp6),
                     ("abstract unix", self.abstract), ("unix socket in the host dir", self.unix)]
        for name, sock in listeners:
            if sock is None:
                continue
            try:
                connection, peer = sock.accept()
            except BlockingIOError:
                continue
            connection.close()
            arrived.append(f"{name} accepted a connection from {peer!r}")
        try:
            data, peer = self.udp.recvfrom(65536)
            arrived.append(f"udp 127.0.0.1 received {data[:40]!r} from {peer!r}")
        except BlockingIOError:
            pass
        return arrived


def sandbox_limits(pid):
    return {name: omcp_client.cgroup_v1_limit(pid, controller, filename)
            for name, controller, filename in (
                ("memory", "memory", "memory.limit_in_bytes"),
                ("pids", "pids", "pids.max"),
                ("cpu quota", "cpu", "cpu.cfs_quota_us"))}


def parent_pid(pid):
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def descendants(root_pid):
    """Return the live pids below ROOT_PID in the host process tree."""
    children = {}
    for pid in omcp_client.all_pids():
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(pid)
    found, pending = [], [root_pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if omcp_client.is_alive(child):
                found.append(child)
            pending.append(child)
    return found


# Runs in a second sandbox beside an attempt whose header says
# `neighbour: yes`. It keeps a secret in its files, its environment and a
# SysV message queue, listens on an abstract Unix socket, and when the
# runner sends it SIGUSR1, reports what reached it.
NEIGHBOUR_CODE = """
import ctypes, json, os, signal, socket, subprocess, sys, time
stop = []
signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
secret = {secret}
for path in ('/sandbox/secret', '/tmp/secret'):
    with open(path, 'w') as f:
        f.write(secret)
sleeper = subprocess.Popen(['/usr/bin/sleep', '600'], env={{'NEIGHBOUR_SECRET': secret}})
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind('\\0omcp-neighbour')
listener.listen(16)
listener.settimeout(0.1)
libc = ctypes.CDLL(None, use_errno=True)
queue = libc.msgget(0x5eed, 0o1000 | 0o666)
open('/sandbox/ready', 'w').close()
connections = 0
while not stop:
    try:
        listener.accept()[0].close()
        connections += 1
    except socket.timeout:
        pass
intact = all(open(p).read() == secret for p in ('/sandbox/secret', '/tmp/secret'))
print(json.dumps({{'connections': connections, 'files_intact': intact, 'queue': queue,
                  'queue_now': libc.msgget(0x5eed, 0), 'sleeper_alive': sleeper.poll() is None}}))
"""

# Runs in the attacked sandbox after the attempt: no process of the
# attempt may be left, and Python must still start.
AFTER_PROBE = """
import json, os
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
print(json.dumps({'pids': pids, 'self': os.getpid()}))
"""


class EscapeCorpus(ServerTestCase):
    """One generated test per corpus program; they share one server while
    it survives, so each test also proves that the previous attempts left
    it serving."""

    server = None

    @classmethod
    def setUpClass(cls):
        cls.canary = "canary-" + uuid.uuid4().hex
        cls.prelude = PRELUDE.read_text()
        cls.host = HostWatch()
        cls.addClassCleanup(cls.host.close)
        cls.addClassCleanup(cls.stop_server)

    @classmethod
    def stop_server(cls):
        if cls.server is not None:
            cls.server.kill()

    @classmethod
    def ensure_server(cls):
        if cls.server is not None and cls.server.running():
            return cls.server
        if cls.server is not None:
            cls.server.kill()
        # The canary sits in the server's environment only: an attempt
        # that finds it has read the server's memory or environment.
        cls.server = McpServer(env={"CODE_VALIDATION": "off", "OMCP_CANARY": cls.canary},
                               log_level="INFO")
        cls.server.initialize()
        return cls.server

    def placeholders(self, server, supervisor_pid):
        values = self.host.placeholders()
        values.update({
            "CANARY": omcp_client.marker_literal(self.canary),
            "SERVER_PID": str(server.pid),
            "SUPERVISOR_HOST_PID": str(supervisor_pid),
        })
        return values

    def substitute(self, text, values):
        def replace(match):
            name = match.group(1)
            self.assertIn(name, values, f"unknown placeholder {{{{{name}}}}}")
            return values[name]
        return PLACEHOLDER.sub(replace, text)

    def run_attempt(self, path):
        header = parse_header(path)
        server = self.ensure_server()
        sandbox_id = self.new_sandbox(server)
        supervisor = omcp_client.sandbox_supervisors().get(sandbox_id)
        self.assertIsNotNone(supervisor, "no supervisor process found for the new sandbox")
        limits_before = sandbox_limits(supervisor)

        values = self.placeholders(server, supervisor)
        neighbour = self.start_neighbour(server, values) if header["neighbour"] else None
        code = self.substitute(self.prelude + "\n" + path.read_text(), values)
        result = server.execute(sandbox_id, code, timeout=header["timeout"],
                                rpc_timeout=header["timeout"] + 90)
        summary = (f"exit_code={result.get('exit_code')} timed_out={result.get('timed_out')} "
                   f"truncated={result.get('output_truncated')} "
                   f"destroyed={result.get('sandbox_destroyed')}\n"
                   f"output (end): {result.get('output', '')[-2000:]}\n"
                   f"error (end): {result.get('error', '')[-2000:]}")

        if os.environ.get("OMCP_ESCAPE_VERBOSE"):
            print(f"\n--- {path.name}\n{summary}", file=sys.stderr)
        text = result.get("output", "") + "\n" + result.get("error", "")
        escapes = [line for line in text.splitlines() if line.startswith("ESCAPED")]
        self.assertEqual(escapes, [], f"{path.name} got out of the sandbox\n{summary}")
        self.assertTrue(any(outcome_matches(o, result) for o in header["outcomes"]),
                        f"{path.name}: expected {header['expect']}\n{summary}")

        if neighbour:
            self.check_neighbour(server, neighbour)
        self.check_host(path.name)
        self.check_sandbox(server, sandbox_id, supervisor, limits_before, result)
        self.check_new_sandbox(server)

    def start_neighbour(self, server, values):
        """Start NEIGHBOUR_CODE in a second sandbox; add its placeholders to VALUES."""
        sandbox_id = self.new_sandbox(server)
        supervisor = omcp_client.sandbox_supervisors()[sandbox_id]
        secret = "neighbour-secret-" + uuid.uuid4().hex
        request_id = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "timeout": 120,
            "code": NEIGHBOUR_CODE.format(secret=omcp_client.marker_literal(secret))})
        # The host's root reaches the neighbour's files through /proc.
        root = pathlib.Path(f"/proc/{supervisor}/root/sandbox")
        ready = omcp_client.wait_until(lambda: (root / "ready").exists(), 30)
        self.assertTrue(ready, "the neighbour sandbox did not get ready\n" + server.stderr_tail())
        values["NEIGHBOUR_SECRET"] = omcp_client.marker_literal(secret)
        values["NEIGHBOUR_HOST_PID"] = str(supervisor)
        return {"id": sandbox_id, "supervisor": supervisor, "request": request_id, "root": root}

    def check_neighbour(self, server, neighbour):
        program = [pid for pid in descendants(neighbour["supervisor"])
                   if parent_pid(pid) == neighbour["supervisor"]]
        self.assertEqual(len(program), 1, "the neighbour's program is not running")
        os.kill(program[0], signal.SIGUSR1)
        result = server.tool_result(neighbour["request"], timeout=60)
        self.assertIs(result.get("success"), True, f"the neighbour's program failed: {result!r}")
        report = json.loads(result["output"].strip().splitlines()[-1])
        self.assertEqual(report["connections"], 0, "the neighbour's abstract socket was reached")
        self.assertTrue(report["files_intact"], "the neighbour's files changed")
        self.assertTrue(report["sleeper_alive"], "the neighbour's process was killed")
        self.assertGreaterEqual(report["queue"], 0, f"the neighbour made no queue: {report!r}")
        self.assertEqual(report["queue_now"], report["queue"], "the neighbour's queue changed")
        self.assertTrue(omcp_client.is_alive(neighbour["supervisor"]),
                        "the neighbour's supervisor is gone")

    def check_host(self, name):
        self.assertEqual(self.host.traffic(), [],
                         f"{name}: a host loopback listener was reached")
        after = self.host.snapshot()
        changed = {key: (value, after.get(key)) for key, value in self.host.snapshot_before.items()
                   if after.get(key) != value}
        changed.update({key: (None, value) for key, value in after.items()
                        if key not in self.host.snapshot_before})
        self.assertEqual(changed, {}, f"{name} changed the host")

    def check_sandbox(self, server, sandbox_id, supervisor, limits_before, result):
        self.assertTrue(server.running(), "the server exited\n" + server.stderr_tail())
        self.assertEqual(server.request("ping", timeout=30).get("result"), {},
                         "the server does not answer ping")
        # Output of the sandbox must reach the client only inside the
        # server's own messages.
        self.assertEqual(server.stray_lines, [], "the server wrote lines that are not JSON-RPC")
        self.assertEqual(server.null_id_responses, [], "the server sent responses with a null id")
        unknown = [key for key in server.responses
                   if not key.isdigit() or int(key) >= server._next_id]
        self.assertEqual(unknown, [], "the server sent responses to ids it was never sent")
        if result.get("sandbox_destroyed"):
            omcp_client.wait_until(lambda: not omcp_client.is_alive(supervisor), 10)
            self.assertFalse(omcp_client.is_alive(supervisor),
                             "the destroyed sandbox's supervisor still runs")
            return

        self.assertTrue(omcp_client.is_alive(supervisor), "the supervisor is gone")
        left = omcp_client.wait_until(lambda: not descendants(supervisor), KILL_GRACE_SECONDS)
        self.assertTrue(left, "processes of the attempt outlived it: "
                        + omcp_client.describe_processes(descendants(supervisor)))
        self.assertEqual(sandbox_limits(supervisor), limits_before,
                         "the sandbox's cgroup limits changed")

        after = server.execute(sandbox_id, AFTER_PROBE, timeout=30)
        self.assertIs(after.get("success"), True, f"the sandbox no longer runs code: {after!r}")
        probe = json.loads(after["output"].strip().splitlines()[-1])
        self.assertEqual(probe["pids"], sorted({1, probe["self"]}),
                         "the next execution sees processes of the attempt")
        self.assertIn(sandbox_id, omcp_client.sandbox_supervisors())
        self.assertEqual(omcp_client.sandbox_supervisors()[sandbox_id], supervisor,
                         "the sandbox has another supervisor")

    def check_new_sandbox(self, server):
        sandbox_id = server.create_sandbox()
        try:
            result = server.execute(sandbox_id, "print(1)", timeout=30)
            self.assertEqual(result.get("output"), "1\n", f"a new sandbox fails: {result!r}")
        finally:
            removed = server.remove_sandbox(sandbox_id)
            self.assertIs(removed.get("success"), True, f"remove_sandbox: {removed!r}")


def add_tests():
    for path in corpus_programs():
        name = "test_" + re.sub(r"\W", "_", path.stem)

        def test(self, path=path):
            self.run_attempt(path)

        test.__doc__ = None
        setattr(EscapeCorpus, name, test)


class CorpusFormat(unittest.TestCase):
    """The corpus itself: enough programs, and headers the runner reads."""

    def test_headers_parse(self):
        for path in corpus_programs():
            with self.subTest(program=path.name):
                header = parse_header(path)
                self.assertTrue(header["escape"].strip())
                self.assertLessEqual(header["timeout"], 60, "timeouts above 60 s slow the suite")

    def test_corpus_size(self):
        self.assertGreaterEqual(len(corpus_programs()), 40)

    def test_host_watch_sees_traffic(self):
        host = HostWatch()
        self.addCleanup(host.close)
        self.assertEqual(host.traffic(), [])
        socket.create_connection(("127.0.0.1", host.tcp.getsockname()[1]), 3).close()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"probe", ("127.0.0.1", host.udp.getsockname()[1]))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
            unix.connect("\0" + host.abstract_name)
            time.sleep(0.1)
            self.assertEqual(len(host.traffic()), 3, "the watch missed a connection")

    def test_host_watch_sees_changes(self):
        host = HostWatch()
        self.addCleanup(host.close)
        self.assertEqual(host.snapshot(), host.snapshot_before)
        (host.dir / "secret").write_text("changed\n")
        self.assertNotEqual(host.snapshot(), host.snapshot_before)
        (host.dir / "secret").write_text(host.secret + "\n")
        (host.dir / "new").write_text("x")
        self.assertNotEqual(host.snapshot(), host.snapshot_before)

    def test_header_errors(self):
        directory = pathlib.Path(tempfile.mkdtemp(dir=omcp_client.LOG_DIR))
        good = "# escape: x\n# expect: contained\n# layer: seccomp\n"
        cases = {
            "missing_layer": "# escape: x\n# expect: contained\nprint(1)\n",
            "unknown_key": good + "# expected: timeout\n",
            "unknown_outcome": good.replace("contained", "escaped"),
            "bad_exit": good.replace("contained", "exit"),
            "bad_neighbour": good + "# neighbour: no\n",
        }
        for name, text in cases.items():
            with self.subTest(case=name):
                path = directory / f"{name}.py"
                path.write_text(text)
                with self.assertRaises(ValueError):
                    parse_header(path)
        path = directory / "good.py"
        path.write_text(good + "# timeout: 7\n# A comment after the header: not a key.\nprint(1)\n")
        header = parse_header(path)
        self.assertEqual(header["timeout"], 7)
        self.assertEqual(header["outcomes"], [("contained", None)])
        self.assertFalse(header["neighbour"])

    def test_outcome_matching(self):
        contained = {"output": "x\nCONTAINED\n", "exit_code": 0}
        self.assertTrue(outcome_matches(("contained", None), contained))
        self.assertFalse(outcome_matches(("contained", None), {"output": "CONTAINED\nx\n",
                                                               "exit_code": 0}))
        self.assertFalse(outcome_matches(("contained", None), dict(contained, exit_code=1)))
        self.assertTrue(outcome_matches(("timeout", None), {"timed_out": True, "exit_code": 124}))
        self.assertFalse(outcome_matches(("killed", None), {"timed_out": True, "exit_code": 137}))
        self.assertTrue(outcome_matches(("exit", 139), {"exit_code": 139}))
        self.assertEqual(parse_expect("x", "killed or destroyed"),
                         [("killed", None), ("destroyed", None)])
        with self.assertRaises(ValueError):
            parse_expect("x", "escaped")


add_tests()

if __name__ == "__main__":
    omcp_client.main()
