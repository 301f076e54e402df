#!/usr/bin/python3
"""MCP protocol tests for `omcp serve`: framing, errors, lifecycle, version
negotiation, tool listing, concurrency, cancellation, progress, logging,
shutdown and configuration."""

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid

import omcp_client
from omcp_client import McpServer, ServerTestCase

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

CORE_TOOLS = ("ping", "create_sandbox", "list_sandboxes", "remove_sandbox",
              "execute_python_code", "run_python_code", "install_package")

MCP_LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert",
                  "emergency")

STDERR_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z (DEBUG|INFO|WARNING|ERROR) [\w./-]+: \S")


class VersionNegotiation(ServerTestCase):

    def test_supported_versions_echoed(self):
        for version in omcp_client.PROTOCOL_VERSIONS:
            with self.subTest(version=version):
                server = self.start_server(initialize=False)
                result = server.initialize(version)
                self.assertEqual(result.get("protocolVersion"), version)
                server.close()

    def test_unknown_version_gets_newest(self):
        server = self.start_server(initialize=False)
        result = server.initialize("1999-01-01")
        self.assertEqual(result.get("protocolVersion"), omcp_client.LATEST_PROTOCOL_VERSION)

    def test_initialize_result_fields(self):
        server = self.start_server(initialize=False)
        result = server.initialize()
        info = result.get("serverInfo", {})
        self.assertEqual(info.get("name"), "omcp", f"serverInfo: {info!r}")
        self.assertIsInstance(info.get("version"), str, f"serverInfo: {info!r}")
        self.assertTrue(info.get("version"), f"serverInfo: {info!r}")
        capabilities = result.get("capabilities", {})
        self.assertIn("tools", capabilities, f"capabilities: {capabilities!r}")
        self.assertIn("logging", capabilities, f"capabilities: {capabilities!r}")

    def test_request_before_initialize_rejected(self):
        server = self.start_server(initialize=False)
        response = server.request("tools/list")
        self.assertIn("error", response, f"tools/list before initialize: {response!r}")
        self.assertNotIn("result", response)
        response = server.call_tool_response("ping")
        self.assertIn("error", response, f"tools/call before initialize: {response!r}")

        server.initialize()
        tools = server.result("tools/list")
        self.assertTrue(tools.get("tools"), "tools/list after initialize returned no tools")


class Framing(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()

    def assert_still_serving(self):
        response = self.server.request("ping", timeout=20)
        self.assertEqual(response.get("result"), {}, f"ping after bad input: {response!r}")

    def send_line_expect_error(self, line, request_id, codes):
        """Send one raw line and return the error response that follows it."""
        null_ids_before = self.server.null_id_count()
        self.server.send_raw(line)
        response = self.server.wait_response(request_id, timeout=30,
                                             null_id_after=null_ids_before)
        self.assertIn("error", response, f"line {line[:80]!r}: response {response!r}")
        self.assertIn(response["error"].get("code"), codes,
                      f"line {line[:80]!r}: error {response['error']!r}")
        self.assertIsInstance(response["error"].get("message"), str)
        return response

    def test_ping_method_returns_empty_result(self):
        response = self.server.request("ping")
        self.assertEqual(response.get("result"), {})
        self.assertEqual(response.get("jsonrpc"), "2.0")

    def test_string_and_zero_ids_echoed(self):
        for request_id in ("abc-1", 0, -5, 2**40):
            with self.subTest(request_id=request_id):
                self.server.send_request("ping", request_id=request_id)
                response = self.server.wait_response(request_id)
                self.assertEqual(response.get("id"), request_id)
                self.assertEqual(response.get("result"), {})

    def test_parse_errors(self):
        lines = [
            b"{not json\n",
            b'{"jsonrpc":"2.0","id":1,"method":"ping"\n',
            b'{"jsonrpc":"2.0","id":2,"method":"ping"} trailing\n',
            b'{"jsonrpc":"2.0",\x00"id":3,"method":"ping"}\n',
        ]
        for line in lines:
            with self.subTest(line=line):
                response = self.send_line_expect_error(line, None, (PARSE_ERROR,))
                self.assertIsNone(response.get("id"), f"parse error response: {response!r}")
                self.assert_still_serving()

    def test_invalid_utf8_line(self):
        line = b'{"jsonrpc":"2.0","id":11,"method":"pi\xffng"}\n'
        self.send_line_expect_error(line, 11, (PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND))
        self.assert_still_serving()

    def test_invalid_requests(self):
        cases = [
            (b'{"jsonrpc":"1.0","id":21,"method":"ping"}\n', 21),
            (b'{"id":22,"method":"ping"}\n', 22),
            (b'{"jsonrpc":"2.0","id":23}\n', 23),
            (b'{"jsonrpc":"2.0","id":24,"method":42}\n', 24),
            (b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}\n', None),
            (b'{"jsonrpc":"2.0","id":[1],"method":"ping"}\n', None),
            (b"[]\n", None),
            (b'"ping"\n', None),
            (b"42\n", None),
            (b"null\n", None),
        ]
        for line, request_id in cases:
            with self.subTest(line=line):
                self.send_line_expect_error(line, request_id, (INVALID_REQUEST,))
                self.assert_still_serving()

    def test_unknown_method(self):
        response = self.server.request("no/such/method")
        self.assertEqual(response.get("error", {}).get("code"), METHOD_NOT_FOUND,
                         f"response: {response!r}")

    def test_unknown_notification_ignored(self):
        before = len(self.server.null_id_responses)
        self.server.notify("notifications/no_such_thing", {"x": 1})
        self.assert_still_serving()
        self.assertEqual(len(self.server.null_id_responses), before,
                         "the server answered a notification")

    def test_blank_and_crlf_lines(self):
        self.server.send_raw(b"\n")
        self.server.send_raw(b"   \n")
        self.assert_still_serving()
        self.server.send_raw(b'{"jsonrpc":"2.0","id":31,"method":"ping"}\r\n')
        response = self.server.wait_response(31)
        self.assertEqual(response.get("result"), {}, f"CRLF-terminated ping: {response!r}")

    def test_oversized_line_then_next_served(self):
        padding = "x" * (17 * 1024 * 1024)
        line = json.dumps({"jsonrpc": "2.0", "id": 41, "method": "ping",
                           "params": {"padding": padding}}).encode() + b"\n"
        self.send_line_expect_error(line, 41, (INVALID_REQUEST, PARSE_ERROR))
        self.assertTrue(self.server.running(), "the server exited after an oversized line")
        self.assert_still_serving()

    def test_oversized_line_in_pieces(self):
        # The line arrives in many writes, so the server receives it across several reads.
        chunk = b"y" * (1024 * 1024)
        pieces = [b'{"jsonrpc":"2.0","id":42,"method":"ping","params":{"p":"'] + [chunk] * 18
        for piece in pieces:
            self.server.send_raw(piece)
        self.send_line_expect_error(b'"}}\n', 42, (INVALID_REQUEST, PARSE_ERROR))
        self.assert_still_serving()

    def test_large_line_under_limit_served(self):
        padding = "z" * (4 * 1024 * 1024)
        request_id = self.server.send_request("ping", {"padding": padding})
        response = self.server.wait_response(request_id)
        self.assertEqual(response.get("result"), {}, "a 4 MiB ping was not served")

    def test_stdout_carries_only_protocol(self):
        sandbox_id = self.new_sandbox(self.server)
        self.server.execute(sandbox_id, "print('to stdout'); import sys; "
                            "print('to stderr', file=sys.stderr)")
        self.server.request("no/such/method")
        self.server.send_raw(b"{bad\n")
        self.assert_still_serving()
        self.assertEqual(self.server.stray_lines, [],
                         "stdout carried lines that are not JSON-RPC messages")


class ToolListing(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        result = self.server.result("tools/list")
        self.tools = {tool["name"]: tool for tool in result.get("tools", [])}
        self.list_result = result

    def test_core_tools_listed(self):
        for name in CORE_TOOLS:
            self.assertIn(name, self.tools, f"tools/list lacks {name}")

    def test_cursor_absent_or_string(self):
        cursor = self.list_result.get("nextCursor")
        self.assertTrue(cursor is None or isinstance(cursor, str), f"nextCursor: {cursor!r}")

    def test_every_tool_has_schemas_and_annotations(self):
        for name, tool in self.tools.items():
            with self.subTest(tool=name):
                self.assertIsInstance(tool.get("description"), str)
                self.assertTrue(tool.get("description"), "empty description")
                self.assertEqual(tool.get("inputSchema", {}).get("type"), "object")
                self.assertEqual(tool.get("outputSchema", {}).get("type"), "object")
                self.assertIn("success", tool["outputSchema"].get("properties", {}),
                              "outputSchema lacks the success property")
                annotations = tool.get("annotations", {})
                for hint in ("readOnlyHint", "destructiveHint", "idempotentHint",
                             "openWorldHint"):
                    self.assertIsInstance(annotations.get(hint), bool,
                                          f"annotation {hint}: {annotations!r}")

    def test_annotation_values(self):
        expectations = [
            ("ping", "readOnlyHint", True),
            ("list_sandboxes", "readOnlyHint", True),
            ("create_sandbox", "readOnlyHint", False),
            ("execute_python_code", "readOnlyHint", False),
            ("remove_sandbox", "readOnlyHint", False),
            ("remove_sandbox", "destructiveHint", True),
            ("install_package", "readOnlyHint", False),
        ]
        for name, hint, value in expectations:
            with self.subTest(tool=name, hint=hint):
                annotations = self.tools.get(name, {}).get("annotations", {})
                self.assertIs(annotations.get(hint), value, f"{name}: {annotations!r}")

    def test_required_arguments(self):
        expectations = {
            "remove_sandbox": {"sandbox_id"},
            "execute_python_code": {"sandbox_id"},
            "install_package": {"sandbox_id", "package"},
        }
        for name, required in expectations.items():
            with self.subTest(tool=name):
                schema = self.tools.get(name, {}).get("inputSchema", {})
                self.assertTrue(required <= set(schema.get("required", [])),
                                f"{name} inputSchema.required: {schema.get('required')!r}")
                for argument in required:
                    self.assertIn(argument, schema.get("properties", {}))

    def test_execute_arguments_described(self):
        properties = self.tools["execute_python_code"]["inputSchema"].get("properties", {})
        for argument in ("sandbox_id", "code", "python_code", "timeout"):
            self.assertIn(argument, properties, f"execute_python_code lacks {argument}")
        timeout_type = properties.get("timeout", {}).get("type")
        types = timeout_type if isinstance(timeout_type, list) else [timeout_type]
        self.assertTrue({"integer", "number"} & set(types), f"timeout type: {timeout_type!r}")


class Concurrency(ServerTestCase):

    def test_ping_overtakes_running_execution(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        slow = server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": "import time; time.sleep(4); print('slow')"})
        fast = server.send_request("ping")
        server.wait_response(fast, timeout=5)
        result = server.tool_result(slow, timeout=60)
        self.assertEqual(result.get("output"), "slow\n", f"slow execution: {result!r}")
        self.assertLess(server.response_sequence(fast), server.response_sequence(slow),
                        "the ping response waited for the running execution")

    def test_many_requests_all_answered(self):
        server = self.start_server()
        ids = [server.send_request("ping") for _ in range(200)]
        ids += [server.start_tool_call("ping") for _ in range(50)]
        for request_id in ids:
            response = server.wait_response(request_id, timeout=30)
            self.assertNotIn("error", response, f"request {request_id}: {response!r}")


class Cancellation(ServerTestCase):

    def test_cancel_kills_execution_without_response(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        marker = omcp_client.unique_marker()
        code = (
            "import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
            f"{omcp_client.marker_literal(marker)}])\n"
            "time.sleep(600)\n")
        request_id = server.start_tool_call("execute_python_code",
                                            {"sandbox_id": sandbox_id, "code": code,
                                             "timeout": 120})
        self.wait_for_processes(marker)
        server.notify("notifications/cancelled", {"requestId": request_id,
                                                  "reason": "test cancels"})
        left = omcp_client.wait_for_no_processes(marker, 10)
        self.assertEqual(left, [], "the cancelled execution's processes still run")

        # Give a wrongly sent response time to arrive before checking for it.
        time.sleep(2)
        self.assertFalse(server.has_response(request_id),
                         "the server answered a cancelled request")

        result = server.execute(sandbox_id, "print('after cancel')")
        self.assertEqual(result.get("output"), "after cancel\n",
                         f"sandbox unusable after cancellation: {result!r}")

    def test_cancel_unknown_request_ignored(self):
        server = self.start_server()
        server.notify("notifications/cancelled", {"requestId": 987654})
        server.notify("notifications/cancelled", {"requestId": "no-such-id"})
        server.notify("notifications/cancelled", {})
        response = server.request("ping")
        self.assertEqual(response.get("result"), {})


class Progress(ServerTestCase):

    def test_progress_sent_while_executing(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        token = "progress-" + uuid.uuid4().hex
        started = time.monotonic()
        request_id = server.start_tool_call(
            "execute_python_code",
            {"sandbox_id": sandbox_id, "code": "import time; time.sleep(12); print('done')",
             "timeout": 60},
            meta={"progressToken": token})
        result = server.tool_result(request_id, timeout=90)
        finished = time.monotonic()
        self.assertEqual(result.get("output"), "done\n", f"result: {result!r}")

        updates = [(t, m["params"]) for t, m in server.notifications_of("notifications/progress")
                   if m.get("params", {}).get("progressToken") == token]
        self.assertGreaterEqual(len(updates), 2, f"progress notifications: {updates!r}")

        times = [started] + [t for t, _ in updates]
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        self.assertLessEqual(max(gaps), 6.5, f"gaps between progress notifications: {gaps}")
        self.assertLessEqual(finished - times[-1], 6.5,
                             "no progress notification in the last seconds before the result")

        values = [params.get("progress") for _, params in updates]
        for value in values:
            self.assertIsInstance(value, (int, float), f"progress values: {values}")
        self.assertEqual(values, sorted(set(values)), f"progress must increase: {values}")

    def test_no_progress_without_token(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        server.execute(sandbox_id, "import time; time.sleep(7)")
        updates = server.notifications_of("notifications/progress")
        self.assertEqual(updates, [], "progress sent for a request without a progressToken")

    def test_string_and_integer_tokens(self):
        server = self.start_server()
        sandbox_id = self.new_sandbox(server)
        request_id = server.start_tool_call(
            "execute_python_code",
            {"sandbox_id": sandbox_id, "code": "import time; time.sleep(6)", "timeout": 60},
            meta={"progressToken": 4242})
        server.tool_result(request_id, timeout=90)
        tokens = [m["params"].get("progressToken")
                  for _, m in server.notifications_of("notifications/progress")]
        self.assertIn(4242, tokens, f"progress tokens seen: {tokens!r}")


class Logging(ServerTestCase):

    def messages(self, server, start=0):
        return [m["params"] for _, m in server.notifications_of("notifications/message")][start:]

    def test_set_level_debug_sends_messages(self):
        server = self.start_server()
        response = server.request("logging/setLevel", {"level": "debug"})
        self.assertEqual(response.get("result"), {}, f"logging/setLevel: {response!r}")
        sandbox_id = self.new_sandbox(server)
        server.execute(sandbox_id, "print(1)")
        found = server.wait_notification(lambda m: m.get("method") == "notifications/message",
                                         timeout=10)
        self.assertIsNotNone(found, "no notifications/message after logging/setLevel debug")
        for params in self.messages(server):
            self.assertIn(params.get("level"), MCP_LOG_LEVELS, f"message: {params!r}")
            self.assertIn("data", params, f"message: {params!r}")

    def test_set_level_error_filters(self):
        server = self.start_server()
        server.result("logging/setLevel", {"level": "error"})
        before = len(self.messages(server))
        sandbox_id = self.new_sandbox(server)
        server.execute(sandbox_id, "print(1)")
        server.remove_sandbox(sandbox_id)
        time.sleep(1)
        for params in self.messages(server, before):
            self.assertNotIn(params.get("level"), ("debug", "info", "notice", "warning"),
                             f"message below the error level: {params!r}")

    def test_set_level_invalid(self):
        server = self.start_server()
        response = server.request("logging/setLevel", {"level": "loud"})
        self.assertEqual(response.get("error", {}).get("code"), INVALID_PARAMS,
                         f"response: {response!r}")
        response = server.request("logging/setLevel", {})
        self.assertEqual(response.get("error", {}).get("code"), INVALID_PARAMS,
                         f"response: {response!r}")

    def test_stderr_line_format(self):
        server = self.start_server(log_level="DEBUG")
        sandbox_id = self.new_sandbox(server)
        server.execute(sandbox_id, "print(1)")
        server.remove_sandbox(sandbox_id)
        self.assertEqual(server.close(), 0)
        lines = [line for line in server.stderr_text().splitlines() if line]
        self.assertTrue(lines, "LOG_LEVEL=DEBUG produced no log lines")
        for line in lines:
            self.assertRegex(line, STDERR_LINE)
        self.assertTrue(any(sandbox_id in line for line in lines),
                        "no log line names the sandbox id")

    def test_log_level_error_hides_info(self):
        server = self.start_server(log_level="ERROR")
        sandbox_id = self.new_sandbox(server)
        server.execute(sandbox_id, "print(1)")
        server.remove_sandbox(sandbox_id)
        self.assertEqual(server.close(), 0)
        for line in server.stderr_text().splitlines():
            self.assertNotRegex(line, r"^\S+ (DEBUG|INFO|WARNING) ",
                                "LOG_LEVEL=ERROR let a lower level through")

    def test_code_and_output_never_logged(self):
        server = self.start_server(log_level="DEBUG")
        server.result("logging/setLevel", {"level": "debug"})
        sandbox_id = self.new_sandbox(server)
        secrets = {name: f"{name}-{uuid.uuid4().hex}" for name in
                   ("comment", "stdout", "stderr", "exception")}
        code = (
            f"# {secrets['comment']}\n"
            "import sys\n"
            f"print({omcp_client.marker_literal(secrets['stdout'])})\n"
            f"print({omcp_client.marker_literal(secrets['stderr'])}, file=sys.stderr)\n"
            f"raise RuntimeError({omcp_client.marker_literal(secrets['exception'])})\n")
        result = server.execute(sandbox_id, code)
        self.assertIn(secrets["stdout"], result.get("output", ""), f"result: {result!r}")
        self.assertIn(secrets["exception"], result.get("error", ""), f"result: {result!r}")
        server.remove_sandbox(sandbox_id)
        self.assertEqual(server.close(), 0)

        stderr = server.stderr_text()
        forwarded = json.dumps(self.messages(server))
        for name, secret in secrets.items():
            self.assertNotIn(secret, stderr, f"the {name} text reached the server log")
            self.assertNotIn(secret, forwarded, f"the {name} text reached notifications/message")


class Shutdown(ServerTestCase):

    def start_with_work(self):
        """Start a server with two sandboxes, one of them executing; return the pieces."""
        server = self.start_server()
        first = server.create_sandbox()
        second = server.create_sandbox()
        marker = omcp_client.unique_marker()
        code = (
            "import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
            f"{omcp_client.marker_literal(marker)}])\n"
            "time.sleep(600)\n")
        server.start_tool_call("execute_python_code",
                               {"sandbox_id": first, "code": code, "timeout": 300})
        self.wait_for_processes(marker)
        supervisors = omcp_client.sandbox_supervisors()
        for sandbox_id in (first, second):
            self.assertIn(sandbox_id, supervisors, "no omcp-sandbox supervisor for " + sandbox_id)
        return server, (first, second), marker

    def assert_nothing_left(self, server, sandbox_ids, marker):
        self.assert_no_processes(marker, "after the server exited")
        supervisors = omcp_client.sandbox_supervisors()
        for sandbox_id in sandbox_ids:
            self.assertNotIn(sandbox_id, supervisors, f"supervisor of {sandbox_id} survived")
        self.assertFalse(omcp_client.is_alive(server.pid), "the server process still runs")

    def test_stdin_eof_stops_cleanly(self):
        server, sandbox_ids, marker = self.start_with_work()
        code = server.close(timeout=30)
        self.assertEqual(code, 0, "exit code after stdin EOF\n" + server.stderr_tail())
        self.assert_nothing_left(server, sandbox_ids, marker)
        self.assertEqual(server.stray_lines, [], "stdout carried non-protocol lines")

    def test_sigterm_stops_cleanly(self):
        server, sandbox_ids, marker = self.start_with_work()
        code = server.terminate(timeout=30)
        self.assertEqual(code, 0, "exit code after SIGTERM\n" + server.stderr_tail())
        self.assert_nothing_left(server, sandbox_ids, marker)

    def test_eof_before_initialize(self):
        server = self.start_server(initialize=False)
        self.assertEqual(server.close(timeout=15), 0)


class Configuration(ServerTestCase):

    def start_failing(self, env, cwd=None):
        """Start a server that must refuse its configuration; return (code, stdout, stderr)."""
        full_env = omcp_client.base_environment()
        full_env.update(env)
        process = subprocess.Popen([str(omcp_client.omcp_binary()), "serve"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=full_env,
                                   cwd=cwd or tempfile.mkdtemp(dir=omcp_client.LOG_DIR))
        try:
            # stdin stays open: the server must stop on its own, not on EOF.
            stdout, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            self.fail(f"the server kept running with invalid configuration {env!r}")
        finally:
            process.stdin.close()
        return process.returncode, stdout.decode(errors="replace"), stderr.decode(
            errors="replace")

    def test_invalid_values_stop_server(self):
        cases = [
            ("SANDBOX_NETWORK", "host", ["none"]),
            ("SANDBOX_NETWORK", "container:other", ["none"]),
            ("SANDBOX_NETWORK", "bridge", ["none"]),
            ("LOG_LEVEL", "LOUD", ["DEBUG", "INFO", "WARNING", "ERROR"]),
            ("SANDBOX_READ_ONLY", "maybe", ["true", "false"]),
            ("PACKAGE_INSTALL_ENABLED", "perhaps", ["true", "false"]),
            ("MAX_SANDBOXES", "ten", []),
            ("MAX_SANDBOXES", "-1", []),
            ("SANDBOX_TIMEOUT", "5s", []),
            ("EXECUTION_DEFAULT_TIMEOUT", "abc", []),
            ("EXECUTION_MAX_TIMEOUT", "-5", []),
            ("EXECUTION_MAX_OUTPUT_BYTES", "lots", []),
            ("SANDBOX_PYTHON", "python3", []),
            ("SANDBOX_PYTHON", "/opt/bin/python3", []),
        ]
        for variable, value, accepted in cases:
            with self.subTest(variable=variable, value=value):
                code, stdout, stderr = self.start_failing({variable: value})
                self.assertNotEqual(code, 0, f"{variable}={value} was accepted")
                self.assertIn(variable, stderr, "the error does not name the variable")
                self.assertEqual(stdout, "", "a configuration error went to stdout")
                for word in accepted:
                    self.assertIn(word.lower(), stderr.lower(),
                                  f"the error does not list accepted value {word}: {stderr!r}")

    def test_host_network_error_is_clear(self):
        code, _, stderr = self.start_failing({"SANDBOX_NETWORK": "host"})
        self.assertNotEqual(code, 0)
        self.assertIn("host", stderr, f"stderr: {stderr!r}")

    def test_explicit_defaults_accepted(self):
        server = self.start_server(env={"SANDBOX_NETWORK": "none", "SANDBOX_READ_ONLY": "true",
                                        "PACKAGE_INSTALL_ENABLED": "false",
                                        "MAX_SANDBOXES": "10", "LOG_LEVEL": "INFO"},
                                   log_level=None)
        self.assertEqual(server.request("ping").get("result"), {})

    def write_dotenv(self, text):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        with open(os.path.join(directory, ".env"), "w") as dotenv:
            dotenv.write(text)
        return directory

    def test_dotenv_file_read(self):
        directory = self.write_dotenv("# limits for this test\nMAX_SANDBOXES=1\n")
        server = self.start_server(cwd=directory)
        self.new_sandbox(server)
        result = server.call_tool("create_sandbox")
        self.assertIs(result.get("success"), False, f"second sandbox: {result!r}")
        self.assertIn("Maximum number of sandboxes reached", result.get("error", ""))

    def test_environment_wins_over_dotenv(self):
        directory = self.write_dotenv("MAX_SANDBOXES=1\n")
        server = self.start_server(env={"MAX_SANDBOXES": "2"}, cwd=directory)
        self.new_sandbox(server)
        self.new_sandbox(server)
        result = server.call_tool("create_sandbox")
        self.assertIs(result.get("success"), False, f"third sandbox: {result!r}")

    def test_invalid_dotenv_value_stops_server(self):
        directory = self.write_dotenv("SANDBOX_NETWORK=host\n")
        code, stdout, stderr = self.start_failing({}, cwd=directory)
        self.assertNotEqual(code, 0, ".env SANDBOX_NETWORK=host was accepted")
        self.assertIn("SANDBOX_NETWORK", stderr)
        self.assertEqual(stdout, "")


if __name__ == "__main__":
    omcp_client.main()
