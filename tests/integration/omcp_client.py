"""Test harness for the omcp integration tests.

Starts `omcp serve` as a child process, speaks MCP (JSON-RPC 2.0, one
message per line) over its stdin and stdout, and offers helpers to inspect
host processes and cgroups. Uses only the Python standard library, because
the tests run with Debian's /usr/bin/python3.
"""

import ctypes
import errno
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_synthea_zip():
    """Return the Synthea27Nj OMOP export that the data tests load:
    $OMCP_SYNTHEA_ZIP, else shared/omop/synthea27nj/ beside the repository
    (or beside the directory of a git worktree), else the machine-wide
    copy under /work/shared."""
    configured = os.environ.get("OMCP_SYNTHEA_ZIP")
    if configured:
        return pathlib.Path(configured)
    relative = pathlib.Path("shared", "omop", "synthea27nj", "Synthea27Nj_5.4.zip")
    for base in (REPO_ROOT.parent, REPO_ROOT.parent.parent, pathlib.Path("/work")):
        if (base / relative).exists():
            return base / relative
    return REPO_ROOT.parent / relative

# Variables that configure the server. The harness removes them from the
# inherited environment so that each test states the configuration it needs.
CONFIG_VARIABLES = (
    "SANDBOX_TIMEOUT",
    "MAX_SANDBOXES",
    "EXECUTION_DEFAULT_TIMEOUT",
    "EXECUTION_MAX_TIMEOUT",
    "EXECUTION_MAX_OUTPUT_BYTES",
    "SANDBOX_PYTHON",
    "SANDBOX_READ_ONLY",
    "SANDBOX_NETWORK",
    "PACKAGE_INSTALL_ENABLED",
    "PACKAGE_ALLOWLIST",
    "PACKAGE_WHEELHOUSE",
    "LOG_LEVEL",
    "CODE_VALIDATION",
    "OMCP_ALLOW_LOCAL_EXECUTION",
)

PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_PROTOCOL_VERSION = PROTOCOL_VERSIONS[0]

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Seconds a test waits for killed processes to disappear from /proc. SIGKILL
# is delivered asynchronously, so a process may still be listed for a few
# milliseconds after the server reports that it killed it.
KILL_GRACE_SECONDS = 1.0

# First line of an AddressSanitizer, LeakSanitizer or UBSan report.
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer|: runtime error: ")

# Server logs of one test file. Removed when every test passed, kept and
# printed otherwise.
LOG_DIR = pathlib.Path(tempfile.mkdtemp(prefix="omcp-it-"))


def omcp_binary():
    """Return the path of the omcp executable under test."""
    configured = os.environ.get("OMCP_BINARY")
    if configured:
        return pathlib.Path(configured)
    return REPO_ROOT / "build" / "omcp"


def unique_marker():
    """Return a token to put in a command line so that /proc finds it."""
    return "omcp-it-" + uuid.uuid4().hex


def marker_literal(marker):
    """Return a Python expression that evaluates to MARKER.

    The expression splits the marker in two, so that code sent to the
    sandbox never contains it whole. Only processes that put the computed
    value in their argv then match, even if the server passes code on a
    command line.
    """
    middle = len(marker) // 2
    return f"({marker[:middle]!r} + {marker[middle:]!r})"


# ---------------------------------------------------------------------------
# Prerequisites


def user_namespaces_work():
    """Return None when a child can create a user namespace, else the reason."""
    if not os.path.exists("/proc/self/ns/user"):
        return "the kernel has no user namespaces (/proc/self/ns/user is missing)"
    try:
        limit = int(pathlib.Path("/proc/sys/user/max_user_namespaces").read_text())
    except (OSError, ValueError):
        limit = None
    if limit == 0:
        return "user namespaces are disabled (user.max_user_namespaces is 0)"

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newuser = 0x10000000
    pid = os.fork()
    if pid == 0:
        code = 0 if libc.unshare(clone_newuser) == 0 else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return "unshare(CLONE_NEWUSER) failed in a child process"
    return None


def skip_reason(need_root=True):
    """Return why this machine cannot run the suite, or None."""
    if not sys.platform.startswith("linux"):
        return "omcp sandboxes need Linux"
    if need_root and os.geteuid() != 0:
        return "the integration tests create sandboxes and need root"
    return user_namespaces_work()


def main(need_root=True):
    """Run the unittest cases of the calling module.

    Exits 77, the skip code that Meson understands, when the machine
    cannot run the file at all, and fails when the binary is missing.
    """
    reason = skip_reason(need_root)
    if reason:
        print("SKIP: " + reason)
        sys.exit(77)
    binary = omcp_binary()
    if not os.access(binary, os.X_OK):
        print(f"FAIL: omcp binary {binary} is missing or not executable; build it with "
              "`meson setup build && ninja -C build` or set OMCP_BINARY")
        sys.exit(1)

    program = unittest.main(exit=False, verbosity=2)
    result = program.result
    if result.wasSuccessful():
        shutil.rmtree(LOG_DIR, ignore_errors=True)
    else:
        print(f"Server logs kept in {LOG_DIR}")
    # A test with failing subtests appears once per subtest, so count test ids.
    def test_ids(entries):
        return {getattr(test, "test_case", test).id() for test, *_ in entries}

    failed = test_ids(result.failures) | test_ids(result.errors)
    failed |= {test.id() for test in result.unexpectedSuccesses}
    skipped = test_ids(result.skipped) - failed
    passed = result.testsRun - len(failed) - len(skipped)
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    sys.exit(0 if result.wasSuccessful() else 1)


# ---------------------------------------------------------------------------
# The MCP client


class ServerError(AssertionError):
    """Failure of the server process or of the protocol, with its log tail."""


class McpServer:
    """One `omcp` child process and a JSON-RPC client for its stdio."""

    def __init__(self, env=None, cwd=None, args=("serve",), log_level="DEBUG"):
        self.binary = str(omcp_binary())
        self.cwd = pathlib.Path(cwd) if cwd else pathlib.Path(tempfile.mkdtemp(dir=LOG_DIR))
        self.stderr_path = pathlib.Path(tempfile.mkstemp(prefix="stderr-", suffix=".log",
                                                         dir=LOG_DIR)[1])
        self.env = base_environment(log_level)
        for key, value in (env or {}).items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = str(value)

        self._next_id = 1
        self._id_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._sequence = 0
        # Responses keyed by the JSON text of their id, each as (sequence, message).
        self.responses = {}
        # Responses whose id is null, such as parse errors.
        self.null_id_responses = []
        # Notifications and server requests, each as (sequence, time, message).
        self.notifications = []
        # stdout lines that are not JSON-RPC messages.
        self.stray_lines = []
        self.eof = False

        with open(self.stderr_path, "wb") as stderr_file:
            self.process = subprocess.Popen(
                [self.binary, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                env=self.env,
                cwd=self.cwd,
            )
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._read_loop, name="omcp-reader", daemon=True)
        self._reader.start()

    # -- reading ----------------------------------------------------------

    def _read_loop(self):
        stream = self.process.stdout
        while True:
            line = stream.readline()
            if not line:
                break
            self._route(line)
        with self._cond:
            self.eof = True
            self._cond.notify_all()

    def _route(self, line):
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        with self._cond:
            self._sequence += 1
            sequence = self._sequence
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                self.stray_lines.append(line)
            elif "method" in message:
                self.notifications.append((sequence, time.monotonic(), message))
            elif "id" in message and ("result" in message or "error" in message):
                if message["id"] is None:
                    self.null_id_responses.append((sequence, message))
                else:
                    self.responses[json.dumps(message["id"])] = (sequence, message)
            else:
                self.stray_lines.append(line)
            self._cond.notify_all()

    # -- writing ----------------------------------------------------------

    def new_id(self):
        with self._id_lock:
            request_id = self._next_id
            self._next_id += 1
        return request_id

    def send_raw(self, data):
        """Write bytes to the server's stdin as they are."""
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message):
        self.send_raw(json.dumps(message).encode() + b"\n")

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def send_request(self, method, params=None, request_id=None):
        """Send a request without waiting and return its id."""
        if request_id is None:
            request_id = self.new_id()
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return request_id

    # -- waiting ----------------------------------------------------------

    def null_id_count(self):
        """Return how many responses with a null id arrived so far."""
        with self._cond:
            return len(self.null_id_responses)

    def wait_response(self, request_id, timeout=60, null_id_after=None):
        """Wait for the response to REQUEST_ID and return the message.

        With NULL_ID_AFTER, a response with a null id also counts when it is
        not among the first NULL_ID_AFTER such responses. JSON-RPC responds
        with a null id when it cannot read a request's id.
        """
        key = json.dumps(request_id)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if key in self.responses:
                    return self.responses[key][1]
                if null_id_after is not None and len(self.null_id_responses) > null_id_after:
                    return self.null_id_responses[null_id_after][1]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    break
                self._cond.wait(remaining)
        state = "closed its stdout" if self.eof else f"sent nothing within {timeout} s"
        raise ServerError(f"no response to request {key}: the server {state}\n"
                          + self.stderr_tail())

    def response_sequence(self, request_id):
        """Return the arrival order of a response already received."""
        with self._cond:
            return self.responses[json.dumps(request_id)][0]

    def has_response(self, request_id):
        with self._cond:
            return json.dumps(request_id) in self.responses

    def request(self, method, params=None, timeout=60):
        """Send a request and return its full response message."""
        return self.wait_response(self.send_request(method, params), timeout)

    def result(self, method, params=None, timeout=60):
        """Send a request and return its result, failing on a JSON-RPC error."""
        response = self.request(method, params, timeout)
        if "error" in response:
            raise ServerError(f"{method} returned error {response['error']!r}\n"
                              + self.stderr_tail())
        return response["result"]

    def wait_notification(self, predicate, timeout=30, start=0):
        """Return the first notification from index START that matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, _, message in self.notifications[start:]:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    return None
                self._cond.wait(remaining)

    def notifications_of(self, method):
        with self._cond:
            return [(t, m) for _, t, m in self.notifications if m.get("method") == method]

    # -- MCP --------------------------------------------------------------

    def initialize(self, version=LATEST_PROTOCOL_VERSION, capabilities=None):
        """Run the initialize handshake and return the initialize result."""
        result = self.result("initialize", {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "omcp-integration-tests", "version": "1"},
        })
        self.notify("notifications/initialized")
        return result

    def call_tool_response(self, name, arguments=None, timeout=120, meta=None):
        params = {"name": name, "arguments": arguments if arguments is not None else {}}
        if meta is not None:
            params["_meta"] = meta
        return self.request("tools/call", params, timeout)

    def call_tool(self, name, arguments=None, timeout=120, meta=None):
        """Call a tool and return its structuredContent."""
        response = self.call_tool_response(name, arguments, timeout, meta)
        if "error" in response:
            raise ServerError(f"tools/call {name} returned error {response['error']!r}\n"
                              + self.stderr_tail())
        result = response["result"]
        if "structuredContent" not in result:
            raise ServerError(f"tools/call {name} result has no structuredContent: {result!r}")
        return result["structuredContent"]

    def start_tool_call(self, name, arguments=None, meta=None):
        """Send a tools/call request without waiting and return its id."""
        params = {"name": name, "arguments": arguments if arguments is not None else {}}
        if meta is not None:
            params["_meta"] = meta
        return self.send_request("tools/call", params)

    def tool_result(self, request_id, timeout=120):
        """Wait for a tools/call started with start_tool_call; return structuredContent."""
        response = self.wait_response(request_id, timeout)
        if "error" in response:
            raise ServerError(f"tools/call {request_id} returned error {response['error']!r}\n"
                              + self.stderr_tail())
        return response["result"].get("structuredContent")

    def create_sandbox(self, **arguments):
        result = self.call_tool("create_sandbox", arguments)
        if result.get("success") is not True:
            raise ServerError(f"create_sandbox failed: {result!r}\n" + self.stderr_tail())
        return result["sandbox_id"]

    def execute(self, sandbox_id, code, timeout=None, rpc_timeout=None):
        arguments = {"sandbox_id": sandbox_id, "code": code}
        if timeout is not None:
            arguments["timeout"] = timeout
        if rpc_timeout is None:
            rpc_timeout = (timeout or 30) + 60
        return self.call_tool("execute_python_code", arguments, timeout=rpc_timeout)

    def remove_sandbox(self, sandbox_id, force=True):
        return self.call_tool("remove_sandbox", {"sandbox_id": sandbox_id, "force": force})

    # -- lifecycle --------------------------------------------------------

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, lines=40):
        tail = self.stderr_text().splitlines()[-lines:]
        return f"--- server stderr ({self.stderr_path}), last {len(tail)} lines ---\n" + \
            "\n".join(tail)

    def running(self):
        return self.process.poll() is None

    def close(self, timeout=30):
        """Close stdin and wait for the server to exit; return its exit code.

        Kills the server and raises ServerError when it does not exit within
        TIMEOUT seconds.
        """
        try:
            self.process.stdin.close()
        except OSError:
            pass
        return self.wait_exit(timeout)

    def terminate(self, timeout=30):
        """Send SIGTERM and wait for the server to exit; return its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=30):
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise ServerError(f"the server did not exit within {timeout} s and was killed\n"
                              + self.stderr_tail()) from None
        self._reader.join(10)
        return code

    def kill(self, grace=10):
        """Stop the server, for cleanup and also after a failed test.

        Closes stdin first and waits up to GRACE seconds, so that the server
        exits through its normal path, where a sanitizer build checks for
        leaks (`make test-asan`), then kills what is still running. Raises
        ServerError when the server's stderr contains a sanitizer report.
        """
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if self.running():
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        # A process that inherited the pipe may keep the reader blocked, and
        # closing the stream under it would wait for the same lock.
        if not self._reader.is_alive():
            self.process.stdout.close()

        # Supervisors are this binary too, and in a sanitizer build they
        # report to the server's stderr, because sandboxes get none of the
        # test's environment.
        if SANITIZER_REPORT.search(self.stderr_text()):
            raise ServerError("sanitizer report in the server's stderr\n" + self.stderr_tail())


def base_environment(log_level="DEBUG"):
    """Return the test process environment without the server's variables."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    # The sandbox tests probe the sandbox itself with code that imports os
    # and ctypes, which the static check would reject before it runs. The
    # validator's own tests pass CODE_VALIDATION=strict.
    env["CODE_VALIDATION"] = "off"
    if log_level is not None:
        env["LOG_LEVEL"] = log_level
    return env


class ServerTestCase(unittest.TestCase):
    """TestCase with helpers that start servers and stop them afterwards."""

    def start_server(self, env=None, cwd=None, initialize=True, log_level="DEBUG"):
        server = McpServer(env=env, cwd=cwd, log_level=log_level)
        self.addCleanup(server.kill)
        if initialize:
            server.initialize()
        return server

    def new_sandbox(self, server, **arguments):
        """Create a sandbox that is removed with force when the test ends."""
        sandbox_id = server.create_sandbox(**arguments)
        self.addCleanup(remove_quietly, server, sandbox_id)
        return sandbox_id

    def run_ok(self, server, sandbox_id, code, timeout=None):
        """Execute CODE and fail unless it exits 0; return the result."""
        result = server.execute(sandbox_id, code, timeout=timeout)
        self.assertIs(result.get("success"), True,
                      f"execution failed: error={result.get('error')!r} "
                      f"exit_code={result.get('exit_code')!r}\n" + server.stderr_tail())
        return result

    def run_json(self, server, sandbox_id, code, timeout=None):
        """Execute CODE, which prints one JSON document last, and decode it."""
        result = self.run_ok(server, sandbox_id, code, timeout)
        lines = result["output"].strip().splitlines()
        self.assertTrue(lines, f"execution printed nothing: {result!r}")
        return json.loads(lines[-1])

    def assert_no_processes(self, marker, message=""):
        """Fail when a process with MARKER in its command line still runs."""
        left = wait_for_no_processes(marker, KILL_GRACE_SECONDS)
        self.assertEqual(left, [], f"processes with marker {marker} still run: "
                         f"{describe_processes(left)} {message}")

    def wait_for_processes(self, marker, timeout=20):
        """Wait until a process with MARKER in its command line runs; return the pids."""
        found = wait_until(lambda: pids_with_marker(marker), timeout)
        self.assertTrue(found, f"no process with marker {marker} appeared within {timeout} s")
        return found


def remove_quietly(server, sandbox_id):
    if not server.running():
        return
    try:
        server.call_tool("remove_sandbox", {"sandbox_id": sandbox_id, "force": True}, timeout=30)
    except (ServerError, OSError):
        pass


# ---------------------------------------------------------------------------
# Host processes


def read_cmdline(pid):
    """Return the argv of PID as a list of str, or None when it is gone."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] if raw else []


def process_state(pid):
    """Return the one-letter state of PID (R, S, Z...), or None when it is gone."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def is_alive(pid):
    """True when PID exists and is not a zombie."""
    state = process_state(pid)
    return state is not None and state not in ("Z", "X")


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def pids_with_marker(marker):
    """Return live pids whose argv contains MARKER in any element."""
    found = []
    for pid in all_pids():
        argv = read_cmdline(pid)
        if argv and any(marker in part for part in argv) and is_alive(pid):
            found.append(pid)
    return found


def sandbox_supervisors():
    """Return {sandbox id: pid} for live processes named omcp-sandbox."""
    found = {}
    for pid in all_pids():
        argv = read_cmdline(pid)
        if argv and argv[0].startswith("omcp-sandbox") and is_alive(pid):
            found[argv[1] if len(argv) > 1 else ""] = pid
    return found


def describe_processes(pids):
    return ", ".join(f"{pid} {read_cmdline(pid)!r} state={process_state(pid)}" for pid in pids)


def wait_until(predicate, timeout, interval=0.1):
    """Poll PREDICATE until it returns a true value or TIMEOUT passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_for_no_processes(marker, timeout):
    """Wait until no process carries MARKER; return the pids still running."""
    left = pids_with_marker(marker)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = pids_with_marker(marker)
    return left


def cgroup_v1_limit(pid, controller, filename):
    """Return the smallest integer value of FILENAME on the cgroup v1 path of PID.

    Walks from the process's own cgroup up to the hierarchy root, because a
    limit set on a parent also applies. Returns None when the controller is
    not mounted as cgroup v1 or PID is gone.
    """
    mount = pathlib.Path("/sys/fs/cgroup") / controller
    try:
        lines = pathlib.Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    relative = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            relative = path
    if relative is None or not mount.is_dir():
        return None

    values = []
    directory = mount / relative.lstrip("/")
    while True:
        try:
            values.append(int((directory / filename).read_text().strip().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
        if directory == mount:
            break
        directory = directory.parent
    return min(values) if values else None


def cgroup_v1_path(pid, controller):
    """Return the cgroup v1 path of PID for CONTROLLER, as /proc/PID/cgroup shows it."""
    try:
        lines = pathlib.Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def cgroup_version():
    """Return 2 for a unified hierarchy at /sys/fs/cgroup, else 1."""
    return 2 if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else 1


# ---------------------------------------------------------------------------
# Seccomp filters, read from a process with ptrace and run in Python

PTRACE_ATTACH = 16
PTRACE_DETACH = 17
PTRACE_SECCOMP_GET_FILTER = 0x420C
WALL = 0x40000000

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF


class SeccompUnavailable(Exception):
    """The kernel or its settings do not let the test read a filter."""


def read_seccomp_filters(pid):
    """Return the seccomp filters of PID as lists of (code, jt, jf, k).

    Attaches with ptrace, which stops the process for a moment, and reads
    the filters with PTRACE_SECCOMP_GET_FILTER (Linux 4.4 and later, with
    CONFIG_CHECKPOINT_RESTORE). Index 0 is the filter installed last.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]

    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        error = ctypes.get_errno()
        raise SeccompUnavailable(f"PTRACE_ATTACH to {pid} failed: {os.strerror(error)}")
    try:
        os.waitpid(pid, WALL)
        filters = []
        for index in range(64):
            count = libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, None)
            if count < 0:
                error = ctypes.get_errno()
                if error == errno.ENOENT:
                    break
                raise SeccompUnavailable(
                    f"PTRACE_SECCOMP_GET_FILTER failed: {os.strerror(error)}")
            buffer = (ctypes.c_uint64 * count)()
            if libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, buffer) != count:
                raise SeccompUnavailable("PTRACE_SECCOMP_GET_FILTER returned a different count")
            program = []
            for word in buffer:
                program.append((word & 0xFFFF, (word >> 16) & 0xFF, (word >> 24) & 0xFF,
                                word >> 32))
            filters.append(program)
        return filters
    finally:
        libc.ptrace(PTRACE_DETACH, pid, None, None)


def _seccomp_data(nr, arch, args):
    words = [nr & 0xFFFFFFFF, arch, 0, 0]
    padded = list(args) + [0] * (6 - len(args))
    for value in padded:
        value &= 0xFFFFFFFFFFFFFFFF
        words += [value & 0xFFFFFFFF, value >> 32]
    return words


def run_bpf(program, nr, arch=AUDIT_ARCH_X86_64, args=()):
    """Run one classic BPF seccomp program on a syscall; return its 32-bit action."""
    data = _seccomp_data(nr, arch, args)
    a = x = 0
    memory = [0] * 16
    pc = 0
    mask = 0xFFFFFFFF
    while pc < len(program):
        code, jt, jf, k = program[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x00 or cls == 0x01:  # BPF_LD, BPF_LDX
            mode = code & 0xE0
            if mode == 0x00:  # BPF_IMM
                value = k
            elif mode == 0x20:  # BPF_ABS, 32-bit words only in seccomp
                value = data[k // 4]
            elif mode == 0x60:  # BPF_MEM
                value = memory[k]
            elif mode == 0x80:  # BPF_LEN
                value = 64
            else:
                raise ValueError(f"unsupported BPF load {code:#x}")
            if cls == 0x00:
                a = value
            else:
                x = value
        elif cls == 0x02:  # BPF_ST
            memory[k] = a
        elif cls == 0x03:  # BPF_STX
            memory[k] = x
        elif cls == 0x04:  # BPF_ALU
            operand = x if code & 0x08 else k
            op = code & 0xF0
            if op == 0x00:
                a = (a + operand) & mask
            elif op == 0x10:
                a = (a - operand) & mask
            elif op == 0x20:
                a = (a * operand) & mask
            elif op == 0x30:
                a = a // operand
            elif op == 0x40:
                a = a | operand
            elif op == 0x50:
                a = a & operand
            elif op == 0x60:
                a = (a << operand) & mask
            elif op == 0x70:
                a = a >> operand
            elif op == 0x80:
                a = (-a) & mask
            elif op == 0x90:
                a = a % operand
            elif op == 0xA0:
                a = a ^ operand
            else:
                raise ValueError(f"unsupported BPF ALU op {code:#x}")
        elif cls == 0x05:  # BPF_JMP
            op = code & 0xF0
            operand = x if code & 0x08 else k
            if op == 0x00:  # BPF_JA
                pc += k
                continue
            if op == 0x10:
                taken = a == operand
            elif op == 0x20:
                taken = a > operand
            elif op == 0x30:
                taken = a >= operand
            elif op == 0x40:
                taken = (a & operand) != 0
            else:
                raise ValueError(f"unsupported BPF jump {code:#x}")
            pc += jt if taken else jf
        elif cls == 0x06:  # BPF_RET
            return a if code & 0x10 else k
        elif cls == 0x07:  # BPF_MISC
            if code & 0xF8 == 0x80:
                a = x
            else:
                x = a
    raise ValueError("BPF program ran past its end")


def seccomp_action(filters, nr, arch=AUDIT_ARCH_X86_64, args=()):
    """Return the action the kernel takes for a syscall under all FILTERS.

    The kernel runs every filter and keeps the action with the highest
    precedence, which is the lowest value when the action bits are read as
    a signed 32-bit number (KILL_PROCESS first, ALLOW last).
    """
    def precedence(action):
        value = action & SECCOMP_RET_ACTION_FULL
        return value - (1 << 32) if value & 0x80000000 else value

    best = SECCOMP_RET_ALLOW
    for program in filters:
        action = run_bpf(program, nr, arch, args)
        if precedence(action) < precedence(best):
            best = action
    return best


def describe_action(action):
    names = {
        SECCOMP_RET_KILL_PROCESS: "KILL_PROCESS",
        SECCOMP_RET_KILL_THREAD: "KILL_THREAD",
        SECCOMP_RET_TRAP: "TRAP",
        SECCOMP_RET_ERRNO: "ERRNO",
        SECCOMP_RET_USER_NOTIF: "USER_NOTIF",
        SECCOMP_RET_TRACE: "TRACE",
        SECCOMP_RET_LOG: "LOG",
        SECCOMP_RET_ALLOW: "ALLOW",
    }
    name = names.get(action & SECCOMP_RET_ACTION_FULL, hex(action))
    data = action & SECCOMP_RET_DATA
    if name == "ERRNO":
        return f"ERRNO({errno.errorcode.get(data, data)})"
    return name


class SharedSandboxTestCase(ServerTestCase):
    """TestCase whose tests share one server and one sandbox, started once
    for the class. Subclasses may set SERVER_ENV."""

    SERVER_ENV = None

    @classmethod
    def setUpClass(cls):
        cls.server = McpServer(env=cls.SERVER_ENV)
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        cls.sandbox_id = cls.server.create_sandbox()

    def sandbox_json(self, code):
        return self.run_json(self.server, self.sandbox_id, code)


def cgroup_v1_writable_by(uid):
    """True when UID owns the v1 memory cgroup this process is in, as a
    delegated hierarchy would give it."""
    try:
        for line in open("/proc/self/cgroup"):
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return os.stat("/sys/fs/cgroup/memory" + path).st_uid == uid
    except OSError:
        return False
    return False
