#!/usr/bin/python3
"""Tests of every omcp tool through tools/call: results, argument errors and
the guards each tool has."""

import datetime
import json
import subprocess
import time
import uuid

import omcp_client
from omcp_client import ServerTestCase

INVALID_PARAMS = -32602

EXECUTION_FIELDS = {
    "success": bool,
    "output": str,
    "error": str,
    "exit_code": int,
    "timed_out": bool,
    "output_truncated": bool,
    "sandbox_destroyed": bool,
    "duration_ms": (int, float),
}

JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "number": (int, float),
    "integer": int,
}


def schema_errors(value, schema, path="$"):
    """Return where VALUE breaks SCHEMA, for the JSON Schema keywords tools use.

    Checks type, enum, required, properties, additionalProperties and items;
    other keywords are ignored.
    """
    errors = []
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        matches = False
        for name in names:
            python_type = JSON_TYPES.get(name)
            if python_type is None:
                continue
            if isinstance(value, bool) and name in ("number", "integer"):
                continue
            if isinstance(value, python_type):
                matches = True
        if not matches:
            return [f"{path}: {value!r} is not of type {expected}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: required property {key} is missing")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: property {key} is not allowed")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def parse_utc(text):
    """Parse an ISO 8601 timestamp and return it; None when it is not UTC."""
    moment = datetime.datetime.fromisoformat(text)
    if moment.utcoffset() != datetime.timedelta(0):
        return None
    return moment


class ResultShape(ServerTestCase):

    def test_results_match_content_and_schema(self):
        server = self.start_server()
        schemas = {tool["name"]: tool.get("outputSchema", {})
                   for tool in server.result("tools/list")["tools"]}
        sandbox_id = self.new_sandbox(server)
        calls = [
            ("ping", {}),
            ("create_sandbox", {}),
            ("list_sandboxes", {}),
            ("list_sandboxes", {"include_inactive": True}),
            ("execute_python_code", {"sandbox_id": sandbox_id, "code": "print('x')"}),
            ("execute_python_code", {"sandbox_id": sandbox_id, "code": "1/0"}),
            ("execute_python_code", {"sandbox_id": str(uuid.uuid4()), "code": "print(1)"}),
            ("install_package", {"sandbox_id": sandbox_id, "package": "requests"}),
            ("remove_sandbox", {"sandbox_id": str(uuid.uuid4())}),
            ("remove_sandbox", {"sandbox_id": sandbox_id, "force": True}),
        ]
        for name, arguments in calls:
            with self.subTest(tool=name, arguments=arguments):
                response = server.call_tool_response(name, arguments)
                self.assertNotIn("error", response, f"JSON-RPC error: {response!r}")
                result = response["result"]
                structured = result.get("structuredContent")
                self.assertIsInstance(structured, dict, f"result: {result!r}")
                self.assertIsInstance(structured.get("success"), bool)

                content = result.get("content")
                self.assertIsInstance(content, list, f"result: {result!r}")
                self.assertEqual(len(content), 1, f"content: {content!r}")
                self.assertEqual(content[0].get("type"), "text")
                if name != "ping":
                    self.assertEqual(json.loads(content[0]["text"]), structured,
                                     "text content differs from structuredContent")
                self.assertIs(result.get("isError"), not structured["success"],
                              f"isError against success: {result!r}")
                problems = schema_errors(structured, schemas.get(name, {}))
                self.assertEqual(problems, [], "structuredContent breaks the outputSchema")
                if name == "create_sandbox" and structured.get("success"):
                    self.addCleanup(omcp_client.remove_quietly, server,
                                    structured["sandbox_id"])


class PingTool(ServerTestCase):

    def test_ping_returns_pong(self):
        server = self.start_server()
        response = server.call_tool_response("ping")
        self.assertNotIn("error", response, f"response: {response!r}")
        result = response["result"]
        structured = result.get("structuredContent", {})
        texts = [item.get("text") for item in result.get("content", [])]
        self.assertTrue(structured.get("result") == "pong" or "pong" in texts,
                        f"ping result: {result!r}")
        self.assertIs(structured.get("success"), True, f"ping result: {result!r}")
        self.assertIs(result.get("isError"), False)


class CreateSandbox(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()

    def test_fields(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        result = self.server.call_tool("create_sandbox")
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        sandbox_id = result.get("sandbox_id", "")
        self.addCleanup(omcp_client.remove_quietly, self.server, sandbox_id)
        self.assertRegex(sandbox_id, omcp_client.UUID_PATTERN)

        created = parse_utc(result.get("created_at", ""))
        last_used = parse_utc(result.get("last_used", ""))
        self.assertIsNotNone(created, f"created_at is not UTC: {result.get('created_at')!r}")
        self.assertIsNotNone(last_used, f"last_used is not UTC: {result.get('last_used')!r}")
        after = datetime.datetime.now(datetime.timezone.utc)
        slack = datetime.timedelta(seconds=2)
        self.assertGreaterEqual(created, before - slack)
        self.assertLessEqual(created, after + slack)
        self.assertGreaterEqual(last_used, created)

    def test_supervisor_process_named(self):
        sandbox_id = self.new_sandbox(self.server)
        supervisors = omcp_client.sandbox_supervisors()
        self.assertIn(sandbox_id, supervisors, f"supervisors: {supervisors!r}")
        argv = omcp_client.read_cmdline(supervisors[sandbox_id])
        self.assertTrue(argv[0].startswith("omcp-sandbox"), f"argv: {argv!r}")
        self.assertEqual(argv[1], sandbox_id)

    def test_ids_unique(self):
        ids = {self.new_sandbox(self.server) for _ in range(3)}
        self.assertEqual(len(ids), 3, f"ids: {ids!r}")

    def test_timeout_argument_accepted(self):
        result = self.server.call_tool("create_sandbox", {"timeout": 120})
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.addCleanup(omcp_client.remove_quietly, self.server, result["sandbox_id"])

    def test_sandbox_usable_at_once(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.server.execute(sandbox_id, "print(6 * 7)")
        self.assertEqual(result.get("output"), "42\n", f"result: {result!r}")


class MaxSandboxes(ServerTestCase):

    def test_limit_and_recovery(self):
        server = self.start_server(env={"MAX_SANDBOXES": "2"})
        first = self.new_sandbox(server)
        self.new_sandbox(server)
        result = server.call_tool("create_sandbox")
        self.assertIs(result.get("success"), False, f"third sandbox: {result!r}")
        self.assertIn("Maximum number of sandboxes reached", result.get("error", ""))
        self.assertNotIn("sandbox_id", result, "a rejected create returned an id")
        listed = server.call_tool("list_sandboxes")
        self.assertEqual(listed.get("count"), 2, f"list after refusal: {listed!r}")

        removed = server.remove_sandbox(first, force=True)
        self.assertIs(removed.get("success"), True, f"remove: {removed!r}")
        result = server.call_tool("create_sandbox")
        self.assertIs(result.get("success"), True, f"create after remove: {result!r}")
        self.addCleanup(omcp_client.remove_quietly, server, result.get("sandbox_id"))


    def test_concurrent_creates_respect_limit(self):
        server = self.start_server(env={"MAX_SANDBOXES": "2"})
        requests = [server.start_tool_call("create_sandbox") for _ in range(6)]
        results = [server.tool_result(request_id) for request_id in requests]
        created = [result["sandbox_id"] for result in results if result.get("success")]
        for sandbox_id in created:
            self.addCleanup(omcp_client.remove_quietly, server, sandbox_id)
        rejected = [result for result in results if not result.get("success")]
        self.assertEqual(len(created), 2, f"results: {results!r}")
        self.assertEqual(len(rejected), 4, f"results: {results!r}")
        for result in rejected:
            self.assertIn("Maximum number of sandboxes reached", result.get("error", ""))
        supervisors = omcp_client.sandbox_supervisors()
        for sandbox_id in created:
            self.assertIn(sandbox_id, supervisors)


class SandboxChurn(ServerTestCase):

    def test_create_remove_waves(self):
        server = self.start_server()
        for wave in range(3):
            requests = [server.start_tool_call("create_sandbox") for _ in range(10)]
            results = [server.tool_result(request_id, timeout=60) for request_id in requests]
            created = [result.get("sandbox_id") for result in results if result.get("success")]
            for sandbox_id in created:
                self.addCleanup(omcp_client.remove_quietly, server, sandbox_id)
            self.assertEqual(len(created), 10, f"wave {wave}: {results!r}")

            executions = [server.start_tool_call("execute_python_code",
                                                 {"sandbox_id": sandbox_id, "code": "print(1)"})
                          for sandbox_id in created]
            for request_id in executions:
                result = server.tool_result(request_id, timeout=60)
                self.assertEqual(result.get("output"), "1\n", f"wave {wave}: {result!r}")

            removals = [server.start_tool_call("remove_sandbox",
                                               {"sandbox_id": sandbox_id, "force": True})
                        for sandbox_id in created]
            for request_id in removals:
                result = server.tool_result(request_id, timeout=60)
                self.assertIs(result.get("success"), True, f"wave {wave}: {result!r}")
            listed = server.call_tool("list_sandboxes")
            self.assertEqual(listed.get("count"), 0, f"after wave {wave}: {listed!r}")


class ListSandboxes(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()

    def test_empty(self):
        result = self.server.call_tool("list_sandboxes")
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        self.assertEqual(result.get("sandboxes"), [])
        self.assertEqual(result.get("count"), 0)

    def test_lists_created_and_forgets_removed(self):
        first = self.new_sandbox(self.server)
        second = self.new_sandbox(self.server)
        result = self.server.call_tool("list_sandboxes")
        entries = {entry.get("id"): entry for entry in result.get("sandboxes", [])}
        self.assertEqual(set(entries), {first, second}, f"result: {result!r}")
        self.assertEqual(result.get("count"), 2)
        for entry in entries.values():
            self.assertIsNotNone(parse_utc(entry.get("created_at", "")), f"entry: {entry!r}")
            self.assertIsNotNone(parse_utc(entry.get("last_used", "")), f"entry: {entry!r}")

        self.server.remove_sandbox(first, force=True)
        result = self.server.call_tool("list_sandboxes")
        ids = [entry.get("id") for entry in result.get("sandboxes", [])]
        self.assertEqual(ids, [second], f"after removing {first}: {result!r}")
        self.assertEqual(result.get("count"), 1)

    def test_include_inactive(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.server.call_tool("list_sandboxes", {"include_inactive": True})
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        ids = [entry.get("id") for entry in result.get("sandboxes", [])]
        self.assertIn(sandbox_id, ids)
        self.assertEqual(result.get("count"), len(result.get("sandboxes", [])))

    def test_last_used_follows_execution(self):
        sandbox_id = self.new_sandbox(self.server)

        def entry():
            listed = self.server.call_tool("list_sandboxes")["sandboxes"]
            return next(item for item in listed if item["id"] == sandbox_id)

        before = entry()
        time.sleep(1.2)
        self.server.execute(sandbox_id, "print(1)")
        after = entry()
        self.assertEqual(after["created_at"], before["created_at"], "created_at changed")
        self.assertGreater(parse_utc(after["last_used"]), parse_utc(before["last_used"]),
                           "last_used did not move forward after an execution")


class RemoveSandbox(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()

    def test_recently_used_needs_force(self):
        sandbox_id = self.new_sandbox(self.server)
        self.server.execute(sandbox_id, "print(1)")
        result = self.server.remove_sandbox(sandbox_id, force=False)
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("force", result.get("error", ""), "the error does not mention force")
        listed = [entry["id"] for entry in self.server.call_tool("list_sandboxes")["sandboxes"]]
        self.assertIn(sandbox_id, listed, "a rejected removal removed the sandbox")
        self.assertIn(sandbox_id, omcp_client.sandbox_supervisors())

    def test_force_removes_and_kills_supervisor(self):
        sandbox_id = self.server.create_sandbox()
        supervisor = omcp_client.sandbox_supervisors().get(sandbox_id)
        self.assertIsNotNone(supervisor, "no supervisor process for the new sandbox")
        result = self.server.remove_sandbox(sandbox_id, force=True)
        self.assertIs(result.get("success"), True, f"result: {result!r}")
        alive = omcp_client.wait_until(lambda: not omcp_client.is_alive(supervisor),
                                       omcp_client.KILL_GRACE_SECONDS)
        self.assertTrue(alive, f"supervisor {supervisor} still runs after removal")
        listed = [entry["id"] for entry in self.server.call_tool("list_sandboxes")["sandboxes"]]
        self.assertNotIn(sandbox_id, listed)

        result = self.server.execute(sandbox_id, "print(1)")
        self.assertIs(result.get("success"), False, "executed in a removed sandbox")
        self.assertIn("not found", result.get("error", ""))

    def test_unknown_id(self):
        unknown = str(uuid.uuid4())
        for force in (False, True):
            with self.subTest(force=force):
                result = self.server.remove_sandbox(unknown, force=force)
                self.assertIs(result.get("success"), False, f"result: {result!r}")
                self.assertIn(f"Sandbox {unknown} not found", result.get("error", ""))

    def test_removed_twice(self):
        sandbox_id = self.server.create_sandbox()
        self.server.remove_sandbox(sandbox_id, force=True)
        result = self.server.remove_sandbox(sandbox_id, force=True)
        self.assertIs(result.get("success"), False, f"second removal: {result!r}")
        self.assertIn(f"Sandbox {sandbox_id} not found", result.get("error", ""))

    def test_strange_ids(self):
        for sandbox_id in ("", "../../etc", "x" * 5000, "00000000-0000-0000-0000-000000000000",
                           "a\nb", "\u00e9t\u00e9"):
            with self.subTest(sandbox_id=sandbox_id[:40]):
                response = self.server.call_tool_response(
                    "remove_sandbox", {"sandbox_id": sandbox_id, "force": True})
                if "error" in response:
                    self.assertEqual(response["error"].get("code"), INVALID_PARAMS)
                else:
                    self.assertIs(response["result"]["structuredContent"].get("success"), False)
        self.assertEqual(self.server.request("ping").get("result"), {})


class ExecutePythonCode(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = omcp_client.McpServer()
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        cls.sandbox_id = cls.server.create_sandbox()


    def execute(self, code, **kwargs):
        return self.server.execute(self.sandbox_id, code, **kwargs)

    def assert_field_types(self, result):
        for field, expected in EXECUTION_FIELDS.items():
            self.assertIn(field, result, f"result lacks {field}: {result!r}")
            self.assertIsInstance(result[field], expected, f"{field}: {result[field]!r}")
            if expected in (int, (int, float)):
                self.assertNotIsInstance(result[field], bool, f"{field} is a boolean")

    def test_print(self):
        result = self.execute("print('hello')")
        self.assert_field_types(result)
        self.assertIs(result["success"], True, f"result: {result!r}")
        self.assertEqual(result["output"], "hello\n")
        self.assertEqual(result["error"], "")
        self.assertEqual(result["exit_code"], 0)
        self.assertIs(result["timed_out"], False)
        self.assertIs(result["output_truncated"], False)
        self.assertIs(result["sandbox_destroyed"], False)
        self.assertGreaterEqual(result["duration_ms"], 0)

    def test_python_code_alias(self):
        result = self.server.call_tool("execute_python_code", {
            "sandbox_id": self.sandbox_id, "python_code": "print('alias')"})
        self.assertEqual(result.get("output"), "alias\n", f"result: {result!r}")

    def test_output_without_newline(self):
        result = self.execute("import sys; sys.stdout.write('no newline')")
        self.assertEqual(result["output"], "no newline")

    def test_stderr_with_success(self):
        result = self.execute("import sys; print('warn me', file=sys.stderr); print('ok')")
        self.assertIs(result["success"], True, f"result: {result!r}")
        self.assertIn("warn me", result["error"])
        self.assertEqual(result["output"], "ok\n")

    def test_exception_traceback(self):
        result = self.execute("x = 1\ny = 0\nprint('before')\nx / y\n")
        self.assert_field_types(result)
        self.assertIs(result["success"], False)
        self.assertEqual(result["exit_code"], 1)
        self.assertIn("Traceback", result["error"])
        self.assertIn("ZeroDivisionError", result["error"])
        self.assertEqual(result["output"], "before\n")

    def test_syntax_error(self):
        result = self.execute("def broken(:\n    pass\n")
        self.assertIs(result["success"], False)
        self.assertEqual(result["exit_code"], 1)
        self.assertIn("SyntaxError", result["error"])

    def test_exit_code_passed_through(self):
        result = self.execute("import sys; sys.exit(3)")
        self.assertIs(result["success"], False)
        self.assertEqual(result["exit_code"], 3)

    def test_killed_by_signal(self):
        result = self.execute("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
        self.assertIs(result["success"], False, f"result: {result!r}")
        self.assertNotEqual(result["exit_code"], 0)

    def test_empty_code_rejected(self):
        for code in ("", "   \n\t  \n"):
            with self.subTest(code=code):
                response = self.server.call_tool_response(
                    "execute_python_code", {"sandbox_id": self.sandbox_id, "code": code})
                self.assertNotIn("error", response, f"JSON-RPC error: {response!r}")
                result = response["result"]["structuredContent"]
                self.assertIs(result.get("success"), False, f"result: {result!r}")
                self.assertIn("empty", result.get("error", "").lower(),
                              "the error does not say the code is empty")

    def test_unknown_sandbox(self):
        unknown = str(uuid.uuid4())
        result = self.server.execute(unknown, "print(1)")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn(f"Sandbox {unknown} not found", result.get("error", ""))

    def test_stdin_is_empty(self):
        started = time.monotonic()
        result = self.execute("input()")
        self.assertLess(time.monotonic() - started, 15, "reading stdin blocked")
        self.assertIn("EOFError", result["error"], f"result: {result!r}")

    def test_unicode_round_trip(self):
        text = "h\u00e9llo \u2713 \u65e5\u672c \U0001f600"
        result = self.execute(f"print({text!r})")
        self.assertEqual(result["output"], text + "\n")

    def test_invalid_utf8_replaced(self):
        code = ("import sys\n"
                "sys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\n"
                "sys.stderr.buffer.write(b'err \\xc3\\x28\\n')\n")
        result = self.execute(code)
        self.assertIn("\ufffd", result["output"], f"output: {result['output']!r}")
        self.assertTrue(result["output"].startswith("ok "), f"output: {result['output']!r}")
        self.assertTrue(result["output"].endswith(" end\n"), f"output: {result['output']!r}")
        self.assertIn("\ufffd", result["error"], f"error: {result['error']!r}")

    def test_nul_and_control_bytes(self):
        result = self.execute("import sys; sys.stdout.write('a\\x00b\\x1bc\\x7f')")
        self.assertEqual(result["output"], "a\x00b\x1bc\x7f")

    def test_large_output_below_cap(self):
        result = self.execute("import sys; sys.stdout.write('x' * 200000)")
        self.assertIs(result["output_truncated"], False)
        self.assertEqual(len(result["output"]), 200000)

    def test_large_code_accepted(self):
        payload = "q" * (256 * 1024)
        result = self.execute(f"data = {payload!r}\nprint(len(data))\n")
        self.assertIs(result["success"], True, f"error: {result.get('error', '')[:300]!r}")
        self.assertEqual(result["output"], f"{256 * 1024}\n")

    def test_sandbox_files_persist(self):
        token = uuid.uuid4().hex
        self.execute(f"open('/sandbox/persist.txt', 'w').write({token!r})")
        result = self.execute("print(open('/sandbox/persist.txt').read())")
        self.assertEqual(result["output"], token + "\n", f"result: {result!r}")

    def test_working_directory_and_home(self):
        result = self.execute("import os; print(os.getcwd()); print(os.environ.get('HOME'))")
        self.assertEqual(result["output"], "/sandbox\n/sandbox\n")

    def test_sandbox_python_is_host_python(self):
        host = subprocess.run(["/usr/bin/python3", "-c",
                               "import sys; print(sys.version.split()[0])"],
                              capture_output=True, text=True, check=True).stdout
        result = self.execute("import sys; print(sys.version.split()[0])")
        self.assertEqual(result["output"], host)

    def test_duration_measured(self):
        result = self.execute("import time; time.sleep(1)")
        self.assertGreaterEqual(result["duration_ms"], 950, f"result: {result!r}")
        self.assertLess(result["duration_ms"], 10000, f"result: {result!r}")

    def test_timeout_argument(self):
        result = self.execute("import time\nprint('before', flush=True)\ntime.sleep(30)\n",
                              timeout=1)
        self.assert_field_types(result)
        self.assertIs(result["timed_out"], True, f"result: {result!r}")
        self.assertEqual(result["exit_code"], 124)
        self.assertIs(result["success"], False)
        self.assertEqual(result["output"], "before\n")
        self.assertGreaterEqual(result["duration_ms"], 900)
        self.assertLess(result["duration_ms"], 6000)

    def test_timeout_clamped_to_one_second(self):
        for timeout in (0, -5):
            with self.subTest(timeout=timeout):
                result = self.execute("import time; time.sleep(30)", timeout=timeout)
                self.assertIs(result["timed_out"], True, f"result: {result!r}")
                self.assertEqual(result["exit_code"], 124)
                self.assertGreaterEqual(result["duration_ms"], 900)
                self.assertLess(result["duration_ms"], 6000)

    def test_usable_after_timeout(self):
        self.execute("import time; time.sleep(30)", timeout=1)
        result = self.execute("print('still here')")
        self.assertEqual(result["output"], "still here\n", f"result: {result!r}")


class ExecutionTimeoutConfig(ServerTestCase):

    def setUp(self):
        self.server = self.start_server(env={"EXECUTION_DEFAULT_TIMEOUT": "2",
                                             "EXECUTION_MAX_TIMEOUT": "3"})
        self.sandbox_id = self.new_sandbox(self.server)

    def assert_times_out_after(self, seconds, timeout):
        result = self.server.execute(self.sandbox_id, "import time; time.sleep(60)",
                                     timeout=timeout, rpc_timeout=60)
        self.assertIs(result.get("timed_out"), True, f"result: {result!r}")
        self.assertEqual(result.get("exit_code"), 124)
        self.assertGreaterEqual(result["duration_ms"], seconds * 1000 - 100)
        self.assertLess(result["duration_ms"], seconds * 1000 + 3000)

    def test_default_timeout_applies(self):
        self.assert_times_out_after(2, None)

    def test_timeout_clamped_to_maximum(self):
        self.assert_times_out_after(3, 100)


class InstallPackage(ServerTestCase):

    def test_disabled_by_default(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        result = server.call_tool("install_package", {"sandbox_id": sandbox_id,
                                                      "package": "requests"})
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("Package installation is disabled by policy", result.get("error", ""))


class InvalidArguments(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = omcp_client.McpServer()
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        cls.sandbox_id = cls.server.create_sandbox()


    def assert_invalid(self, name, arguments, word):
        response = self.server.call_tool_response(name, arguments)
        error = response.get("error", {})
        self.assertEqual(error.get("code"), INVALID_PARAMS, f"{name} {arguments!r}: {response!r}")
        self.assertIn(word, error.get("message", ""), f"the message does not name {word}")

    def test_argument_errors_name_argument(self):
        sandbox_id = self.sandbox_id
        cases = [
            ("create_sandbox", {"timeout": "abc"}, "timeout"),
            ("list_sandboxes", {"include_inactive": "yes"}, "include_inactive"),
            ("remove_sandbox", {}, "sandbox_id"),
            ("remove_sandbox", {"sandbox_id": 5}, "sandbox_id"),
            ("remove_sandbox", {"sandbox_id": sandbox_id, "force": "yes"}, "force"),
            ("execute_python_code", {"code": "print(1)"}, "sandbox_id"),
            ("execute_python_code", {"sandbox_id": sandbox_id}, "code"),
            ("execute_python_code", {"sandbox_id": sandbox_id, "code": 5}, "code"),
            ("execute_python_code", {"sandbox_id": sandbox_id, "code": ["print(1)"]}, "code"),
            ("execute_python_code", {"sandbox_id": sandbox_id, "code": "print(1)",
                                     "timeout": "soon"}, "timeout"),
            ("install_package", {"sandbox_id": sandbox_id}, "package"),
            ("install_package", {"package": "requests"}, "sandbox_id"),
        ]
        for name, arguments, word in cases:
            with self.subTest(tool=name, arguments=arguments):
                self.assert_invalid(name, arguments, word)

    def test_unknown_tool(self):
        response = self.server.call_tool_response("no_such_tool", {})
        error = response.get("error", {})
        self.assertEqual(error.get("code"), INVALID_PARAMS, f"response: {response!r}")
        self.assertIn("no_such_tool", error.get("message", ""))

    def test_malformed_call_params(self):
        cases = [
            {},
            {"name": 5},
            {"name": "ping", "arguments": [1]},
            {"name": "ping", "arguments": "x"},
        ]
        for params in cases:
            with self.subTest(params=params):
                response = self.server.request("tools/call", params)
                self.assertEqual(response.get("error", {}).get("code"), INVALID_PARAMS,
                                 f"response: {response!r}")

    def test_server_survives_argument_errors(self):
        self.assert_invalid("execute_python_code", {"sandbox_id": self.sandbox_id, "code": None},
                            "code")
        result = self.server.execute(self.sandbox_id, "print('fine')")
        self.assertEqual(result.get("output"), "fine\n")


if __name__ == "__main__":
    omcp_client.main()
