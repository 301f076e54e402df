"""Static code validation and run_python_code, measured through MCP.

Every rule is checked through execute_python_code against the real
binary: rejected code must come back as success false, exit code 1 and an
error starting "Security Violation:", and must never run. The validator
script itself is also driven directly over its pipe protocol with inputs
that JSON cannot carry (invalid UTF-8).
"""

import json
import os
import pathlib
import signal
import subprocess
import time
import unittest

from omcp_client import (
    REPO_ROOT,
    McpServer,
    ServerTestCase,
    main,
    marker_literal,
    read_cmdline,
    unique_marker,
    wait_until,
)

BLOCKED_MODULES = (
    "os", "sys", "subprocess", "shutil", "socket", "requests", "urllib", "http", "ftplib",
    "poplib", "imaplib", "smtplib", "telnetlib", "ctypes", "pickle", "marshal", "shelve", "dbm",
    "sqlite3", "importlib", "threading", "asyncio", "multiprocessing", "signal", "pty", "mmap",
    "resource", "gc", "inspect",
)

BLOCKED_CALLS = (
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "input",
    "breakpoint", "globals", "locals", "vars",
)

BLOCKED_NAMES = (
    "__builtins__", "__globals__", "__class__", "__bases__", "__subclasses__", "__mro__",
    "__code__", "__closure__", "__dict__", "__new__", "__init_subclass__", "__getattribute__",
    "__reduce__", "__reduce_ex__", "__loader__", "__spec__", "f_globals", "f_locals", "f_back",
    "gi_frame", "cr_frame", "tb_frame",
)

STRICT = {"CODE_VALIDATION": "strict"}

DISABLED_MESSAGE = "Local execution is disabled. Set OMCP_ALLOW_LOCAL_EXECUTION=true to enable."

# A typical analysis cell: every module on the accepted list.
ANALYSIS_CODE = '''\
"""Summarise a small cohort. Mentions eval(), open() and __builtins__ only here."""
import collections
import datetime
import json
import math
import re
import statistics

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# import os would be rejected, but not inside a comment
frame = pd.DataFrame({"age": [34, 51, 67, 45], "sex": ["F", "M", "F", "M"]})
ages = np.array(frame["age"])
counts = collections.Counter(frame["sex"])
note = "__class__ and subprocess in a string are fine"
my_eval = 1
f = eval
summary = {
    "mean": float(statistics.mean(ages)),
    "sqrt": math.sqrt(16),
    "year": datetime.date(2024, 1, 1).year,
    "codes": re.findall(r"[A-Z]", "F M"),
    "counts": {key: int(value) for key, value in counts.items()},
    "backend": matplotlib.get_backend(),
}
fig, ax = plt.subplots()
ax.hist(ages)
print(json.dumps(summary, sort_keys=True))
'''


def violation(result):
    """Return the error of a rejected result, or None when it was not rejected."""
    error = result.get("error") or ""
    if result.get("success") is False and error.startswith("Security Violation:"):
        return error
    return None


class ValidatorCase(ServerTestCase):
    """Helpers shared by the test classes below."""

    def assert_rejected(self, result, *fragments):
        error = violation(result)
        self.assertIsNotNone(error, f"code was not rejected: {result!r}")
        self.assertEqual(result["exit_code"], 1, result)
        self.assertEqual(result["output"], "", result)
        for fragment in fragments:
            self.assertIn(fragment, error)
        return error

    def assert_accepted(self, result):
        self.assertIsNone(violation(result), f"code was rejected: {result!r}")


class SharedStrictServerCase(ValidatorCase):
    """Tests that share one server with CODE_VALIDATION=strict and one sandbox."""

    @classmethod
    def setUpClass(cls):
        cls.server = McpServer(env=STRICT)
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        cls.sandbox_id = cls.server.create_sandbox()


class RulesTest(SharedStrictServerCase):
    """Each rejected and accepted form, through execute_python_code."""

    def run_code(self, code):
        return self.server.execute(self.sandbox_id, code)

    def test_blocked_imports(self):
        for module in BLOCKED_MODULES:
            for code in (f"x = 1\nimport {module}\n", f"import {module} as alias\n",
                         f"from {module} import something\n", f"import math, {module}\n"):
                with self.subTest(code=code):
                    error = self.assert_rejected(self.run_code(code), f"'{module}'")
                    self.assertIn("import", error)
                    self.assertIn("(line ", error)

    def test_import_line_named(self):
        result = self.run_code("import math\n\nimport os\n")
        self.assertEqual(result["error"], "Security Violation: import of 'os' is not allowed (line 3)")

    def test_blocked_submodules(self):
        for code, name in (("import os.path", "os.path"),
                           ("from os.path import join", "os.path"),
                           ("import urllib.request", "urllib.request"),
                           ("from http.client import HTTPConnection", "http.client"),
                           ("import importlib.util", "importlib.util"),
                           ("import multiprocessing.pool as mp", "multiprocessing.pool")):
            with self.subTest(code=code):
                self.assert_rejected(self.run_code(code), f"'{name}'")

    def test_blocked_calls(self):
        for name in BLOCKED_CALLS:
            with self.subTest(name=name):
                error = self.assert_rejected(self.run_code(f"x = 2\ny = {name}('1')\n"),
                                             f"'{name}'", "(line 2)")
                self.assertIn("call", error)

    def test_blocked_names_and_attributes(self):
        for name in BLOCKED_NAMES:
            for code in (f"x = {name}\n", f"x = (1).{name}\n", f"d = {{}}\nx = d['{name}']\n"):
                with self.subTest(code=code):
                    self.assert_rejected(self.run_code(code), f"'{name}'")

    def test_syntax_errors(self):
        for code in ("def f(:\n    pass\n", "if True:\nprint(1)\n", "x = (1,\n",
                     "  indented = 1\n", "if True:\n\tx = 1\n        y = 2\n"):
            with self.subTest(code=code):
                self.assert_rejected(self.run_code(code), "Syntax")

    def test_rejected_code_never_runs(self):
        marker_file = "/sandbox/ran-" + unique_marker()
        code = (f"import pathlib\npathlib.Path({marker_file!r}).write_text('ran')\n"
                "print('ran')\nimport subprocess\n")
        self.assert_rejected(self.run_code(code), "'subprocess'")
        check = self.run_ok(self.server, self.sandbox_id,
                            f"import pathlib\nprint(pathlib.Path({marker_file!r}).exists())")
        self.assertEqual(check["output"].strip(), "False")

    def test_analysis_code_runs(self):
        result = self.run_ok(self.server, self.sandbox_id, ANALYSIS_CODE)
        summary = json.loads(result["output"].strip().splitlines()[-1])
        self.assertEqual(summary["counts"], {"F": 2, "M": 2})
        self.assertEqual(summary["sqrt"], 4.0)

    def test_harmless_forms_accepted(self):
        for code in ("# import os\n# eval('x')\n",
                     "s = 'import os; eval(x); __class__'\nprint(len(s))\n",
                     '"""open() and __import__ and f_back"""\nprint(1)\n',
                     "my_eval = 1\nprint(my_eval)\n",
                     "f = eval\nprint(callable(f))\n",
                     "import pandas as pd\nprint(pd.DataFrame({'a': [1]}).eval('a + 1')[0])\n",
                     "d = {'name': 1}\nprint(d['name'])\n"):
            with self.subTest(code=code):
                self.run_ok(self.server, self.sandbox_id, code)

    def test_import_omop_accepted(self):
        # The module may not exist in this build; only the validator's
        # verdict matters here.
        self.assert_accepted(self.run_code("import omop\n"))

    def test_blank_code_is_not_run(self):
        result = self.run_code("   \n")
        self.assertIs(result["success"], False)
        self.assertEqual(result["error"], "Python code must be a non-empty string")

    def test_python_code_alias_checked(self):
        result = self.server.call_tool("execute_python_code", {
            "sandbox_id": self.sandbox_id, "python_code": "import socket"})
        self.assert_rejected(result, "'socket'")

    def test_unknown_argument_cannot_disable(self):
        response = self.server.call_tool_response("execute_python_code", {
            "sandbox_id": self.sandbox_id, "code": "import os", "code_validation": "off"})
        result = response.get("result", {}).get("structuredContent")
        if result is not None:
            self.assert_rejected(result, "'os'")
        else:
            self.assertIn("error", response)


class HostileInputTest(SharedStrictServerCase):
    """Inputs built to break the parser or the helper; the helper survives."""

    def run_code(self, code, rpc_timeout=120):
        return self.server.execute(self.sandbox_id, code, rpc_timeout=rpc_timeout)

    def assert_helper_works(self):
        self.assert_rejected(self.run_code("import os"), "import of 'os'")
        self.run_ok(self.server, self.sandbox_id, "print(6 * 7)")

    def test_null_byte_never_reaches_tool(self):
        # JSON-RPC parsing rejects U+0000 in strings, so the request fails
        # before any tool runs; the validator script test covers the byte.
        before = self.server.null_id_count()
        request_id = self.server.start_tool_call("execute_python_code", {
            "sandbox_id": self.sandbox_id, "code": "x = 1\0\nprint(2)\n"})
        response = self.server.wait_response(request_id, timeout=30, null_id_after=before)
        self.assertIn("error", response)
        self.assert_helper_works()

    def test_deeply_nested_parentheses(self):
        self.assert_rejected(self.run_code("(" * 100000 + ")" * 100000), "Syntax")
        self.assert_helper_works()

    def test_deeply_nested_operators(self):
        self.assert_rejected(self.run_code("x = " + "-" * 100000 + "1\n"))
        self.assert_helper_works()

    def test_ten_megabytes_of_statements(self):
        self.assert_rejected(self.run_code("x = 1\n" * (10 * 1024 * 1024 // 6)))
        self.assert_helper_works()

    def test_ten_megabyte_literal(self):
        code = "x = '" + "a" * (10 * 1024 * 1024) + "'\nimport os\n"
        self.assertEqual(self.run_code(code)["error"],
                         "Security Violation: import of 'os' is not allowed (line 2)")
        self.assert_helper_works()

    def test_long_identifier_quoted_short(self):
        name = "os" + "x" * 100000
        error = self.assert_rejected(self.run_code(f"y = {name}.__class__\n"), "'__class__'")
        self.assertLess(len(error), 400)


class PlantedFilesTest(ValidatorCase):
    """Files an agent plants in its sandbox do not reach the validator."""

    PLANTED_AST = (
        "class Module:\n    body = []\n"
        "def parse(*args, **kwargs):\n    return Module()\n"
        "def walk(node):\n    return iter(())\n"
    )

    def test_planted_modules_ignored(self):
        server = self.start_server(env=STRICT)
        sandbox_id = self.new_sandbox(server)
        plant = (
            "import pathlib\n"
            f"source = {self.PLANTED_AST!r}\n"
            "for directory in ('/sandbox', '/sandbox/packages', '/tmp'):\n"
            "    pathlib.Path(directory).mkdir(parents=True, exist_ok=True)\n"
            "    for name in ('ast.py', 'json.py', 'sitecustomize.py', 'usercustomize.py'):\n"
            "        pathlib.Path(directory, name).write_text(source)\n"
            "print('planted')\n"
        )
        self.assertEqual(self.run_ok(server, sandbox_id, plant)["output"], "planted\n")
        for code, name in (("import os", "'os'"), ("eval('1')", "'eval'"),
                           ("x = ().__class__", "'__class__'")):
            with self.subTest(code=code):
                self.assert_rejected(server.execute(sandbox_id, code), name)
        self.run_ok(server, sandbox_id, "print(1)")


def child_pids(pid):
    """Return the pids of the children of every thread of PID."""
    children = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for task in tasks:
        try:
            children += [int(c) for c in
                         pathlib.Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return children


def validator_helper_pid(server_pid):
    """Return the host pid of the validator helper of one server, or None.

    Looks only below that server, because other servers on the machine
    have validator sandboxes with the same name.
    """
    for supervisor in child_pids(server_pid):
        argv = read_cmdline(supervisor) or []
        if len(argv) < 2 or not argv[0].startswith("omcp-sandbox") or argv[1] != "code-validator":
            continue
        for child in child_pids(supervisor):
            child_argv = read_cmdline(child) or []
            if "-S" in child_argv and "-I" in child_argv:
                return child
    return None


class HelperFailureTest(ValidatorCase):
    """A helper that dies or hangs rejects the call and is replaced."""

    def setUp(self):
        self.server = self.start_server(env=STRICT)
        self.sandbox_id = self.new_sandbox(self.server)
        self.helper = wait_until(lambda: validator_helper_pid(self.server.pid), 10)
        self.assertIsNotNone(self.helper, "no validator helper process found")

    def assert_validated_again(self):
        result = self.server.execute(self.sandbox_id, "import os")
        self.assertEqual(result["error"],
                         "Security Violation: import of 'os' is not allowed (line 1)")
        self.run_ok(self.server, self.sandbox_id, "print(1)")
        replacement = wait_until(lambda: validator_helper_pid(self.server.pid), 10)
        self.assertIsNotNone(replacement)
        self.assertNotEqual(replacement, self.helper)

    def test_killed_helper_replaced(self):
        os.kill(self.helper, signal.SIGKILL)
        result = self.server.execute(self.sandbox_id, "print('must not run')")
        self.assert_rejected(result, "could not be checked")
        self.assert_validated_again()
        self.assertIn("restarting it", self.server.stderr_text())

    def test_hung_helper_replaced(self):
        os.kill(self.helper, signal.SIGSTOP)
        self.addCleanup(lambda: os.kill(self.helper, signal.SIGCONT)
                        if read_cmdline(self.helper) is not None else None)
        start = time.monotonic()
        result = self.server.execute(self.sandbox_id, "print('must not run')")
        self.assert_rejected(result, "could not be checked", "timed out")
        self.assertLess(time.monotonic() - start, 30)
        self.assert_validated_again()


class ValidationOffTest(ValidatorCase):
    def test_import_os_runs(self):
        server = self.start_server(env={"CODE_VALIDATION": "off"})
        sandbox_id = self.new_sandbox(server)
        result = self.run_ok(server, sandbox_id, "import os\nprint(os.getcwd())")
        self.assertEqual(result["output"], "/sandbox\n")
        self.assertNotIn("sandbox=code-validator", server.stderr_text())


class RunPythonCodeTest(ValidatorCase):
    """run_python_code: disabled by default; bounded and validated when enabled."""

    def test_disabled_by_default(self):
        server = self.start_server(env=STRICT)
        for arguments in ({"code": "print(1)"}, {"python_code": "print(1)", "timeout": 5}):
            with self.subTest(arguments=arguments):
                result = server.call_tool("run_python_code", arguments)
                self.assertIs(result["success"], False)
                self.assertEqual(result["error"], DISABLED_MESSAGE)

    def test_enabled_runs_validated(self):
        server = self.start_server(env={**STRICT, "OMCP_ALLOW_LOCAL_EXECUTION": "true"})
        self.assertIn("run_python_code runs code on this host", server.stderr_text())
        result = server.call_tool("run_python_code", {"code": "print(sum(range(10)))"})
        self.assertIs(result["success"], True, result)
        self.assertEqual(result["output"], "45\n")
        self.assertEqual(result["exit_code"], 0)
        for key in ("timed_out", "output_truncated", "sandbox_destroyed", "duration_ms"):
            self.assertIn(key, result)
        self.assertIn("without a sandbox", server.stderr_text())

        rejected = server.call_tool("run_python_code", {"python_code": "import subprocess"})
        self.assert_rejected(rejected, "'subprocess'")

        failing = server.call_tool("run_python_code", {"code": "raise ValueError('boom')"})
        self.assertIs(failing["success"], False)
        self.assertEqual(failing["exit_code"], 1)
        self.assertIn("ValueError: boom", failing["error"])

    def test_deadline_and_output_cap(self):
        server = self.start_server(env={**STRICT, "OMCP_ALLOW_LOCAL_EXECUTION": "true",
                                        "EXECUTION_MAX_OUTPUT_BYTES": "4096"})
        start = time.monotonic()
        result = server.call_tool("run_python_code", {"code": "while True:\n    pass\n",
                                                      "timeout": 1})
        self.assertLess(time.monotonic() - start, 20)
        self.assertIs(result["timed_out"], True, result)
        self.assertEqual(result["exit_code"], 124)

        result = server.call_tool("run_python_code", {"code": "while True:\n    print('x' * 1000)\n"})
        self.assertIs(result["output_truncated"], True, result)
        self.assertEqual(result["exit_code"], 137)
        self.assertLessEqual(len(result["output"]), 4096)

    def test_no_process_or_directory_left(self):
        server = self.start_server(env={"CODE_VALIDATION": "off",
                                        "OMCP_ALLOW_LOCAL_EXECUTION": "true",
                                        "DB_PASSWORD": "secret-" + unique_marker()})
        for ending in ("print('done')", "import time\ntime.sleep(600)"):
            with self.subTest(ending=ending):
                marker = unique_marker()
                code = (
                    "import os, subprocess, sys\n"
                    f"marker = {marker_literal(marker)}\n"
                    "sleeper = [sys.executable, '-c', 'import time; time.sleep(600)', marker]\n"
                    "subprocess.Popen(sleeper)\n"
                    "subprocess.Popen(sleeper, start_new_session=True)\n"
                    "if os.fork() == 0:\n"
                    "    os.setsid()\n"
                    "    subprocess.Popen(sleeper, start_new_session=True)\n"
                    "    os._exit(0)\n"
                    "print(os.getcwd())\n"
                    "print(sorted(os.environ))\n"
                    "sys.stdout.flush()\n"
                    + ending + "\n"
                )
                result = server.call_tool("run_python_code", {"code": code, "timeout": 3})
                lines = result["output"].splitlines()
                self.assertGreaterEqual(len(lines), 2, result)
                workdir = lines[0]
                self.assertTrue(workdir.startswith("/tmp/omcp-local-"), workdir)
                self.assertFalse(os.path.exists(workdir), f"{workdir} was not removed")
                self.assertNotIn("DB_PASSWORD", lines[1])
                self.assert_no_processes(marker)


class ValidatorScriptTest(unittest.TestCase):
    """python/validator.py over its own protocol, with inputs JSON cannot carry."""

    def setUp(self):
        source = (REPO_ROOT / "python" / "validator.py").read_text()
        read_end, self.write_end = os.pipe()
        # A first interpreter moves the pipe to descriptor 3, where the
        # server's supervisor puts it too, and starts the validator.
        launcher = ("import os, sys\n"
                    "os.dup2(int(sys.argv[1]), 3)\n"
                    "os.execv(sys.executable, [sys.executable, '-I', '-S', '-c', sys.argv[2]])\n")
        self.process = subprocess.Popen(
            ["/usr/bin/python3", "-I", "-c", launcher, str(read_end), source],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(read_end,))
        os.close(read_end)
        self.addCleanup(self.stop)

    def stop(self):
        os.close(self.write_end)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def check(self, code):
        view = memoryview(len(code).to_bytes(8, "big") + code)
        while view:
            view = view[os.write(self.write_end, view):]
        return json.loads(self.process.stdout.readline())

    def test_empty_and_comment_only(self):
        for code in (b"", b"# only a comment\n", b"\n\n"):
            with self.subTest(code=code):
                self.assertEqual(self.check(code), {"ok": True})

    def test_null_byte(self):
        reply = self.check(b"x = 1\0\nprint(2)\n")
        self.assertIs(reply["ok"], False)
        self.assertIn("Syntax", reply["error"])
        self.assertIn("null", reply["error"])

    def test_invalid_utf8(self):
        for code in (b"x = '\xff'\n", b"\xed\xa0\x80 = 1\n", b"\xc3"):
            with self.subTest(code=code):
                reply = self.check(code)
                self.assertIs(reply["ok"], False)
                self.assertIn("Syntax", reply["error"])
        self.assertEqual(self.check(b"print(1)\n"), {"ok": True})

    def test_encoding_declaration_honoured(self):
        # The interpreter decodes with the declared encoding, so the check must too.
        code = "# -*- coding: latin-1 -*-\nimport os\n".encode("latin-1")
        self.assertIs(self.check(code)["ok"], False)

    def test_end_of_input_exits(self):
        os.close(self.write_end)
        self.write_end = os.open("/dev/null", os.O_WRONLY)
        self.assertEqual(self.process.wait(10), 0)


if __name__ == "__main__":
    main()
