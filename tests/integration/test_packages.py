#!/usr/bin/python3
"""Tests of install_package: the requirement policy seen through MCP, pip
installing pinned wheels from a read-only wheelhouse inside the sandbox,
and the start-up checks of PACKAGE_WHEELHOUSE and PACKAGE_ALLOWLIST.

Every wheel is a small pure-Python wheel that this file writes itself."""

import base64
import hashlib
import os
import pathlib
import shutil
import stat
import subprocess
import tempfile
import uuid
import zipfile

import omcp_client
from omcp_client import ServerTestCase

ALLOWLIST = "omcp-demo, Omcp_Needs_Helper ,omcp.deep, omcp-slow,omcp-many"

# Helper packages that the wheelhouse contains but the allowlist does not name.
HELPER_PARTS = 30


def build_wheel(directory, name, version, modules, requires=()):
    """Write the wheel NAME-VERSION-py3-none-any.whl into DIRECTORY.

    MODULES maps file names inside the wheel to their text. REQUIRES lists
    Requires-Dist lines. Returns the path of the wheel."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    files = dict(modules)
    files[f"{dist_info}/METADATA"] = metadata
    files[f"{dist_info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: omcp-tests\n"
                                   "Root-Is-Purelib: true\nTag: py3-none-any\n")

    record = []
    path = pathlib.Path(directory) / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for member, text in files.items():
            data = text.encode()
            wheel.writestr(member, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{member},sha256={digest.decode()},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def make_wheelhouse():
    """Create a wheelhouse with every wheel the tests install; return its path.

    It lies directly below /tmp and is world-writable, as are its wheels,
    so that only the read-only bind mount stops a sandbox from changing
    it. Sandboxes open it as an unprivileged user."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix="omcp-wheelhouse-", dir="/tmp"))
    build_wheel(directory, "omcp_demo", "1.0", {"omcp_demo.py": "VALUE = 'one'\n"})
    build_wheel(directory, "omcp_demo", "1.1", {"omcp_demo.py": "VALUE = 'one-one'\n"})
    build_wheel(directory, "omcp_needs_helper", "1.0",
                {"omcp_needs_helper.py": "import omcp_helper\nVALUE = omcp_helper.VALUE\n"},
                requires=["omcp-helper==2.0"])
    build_wheel(directory, "omcp_helper", "2.0", {"omcp_helper.py": "VALUE = 'helped'\n"})
    build_wheel(directory, "omcp_deep", "1.0", {"omcp_deep.py": "VALUE = 1\n"},
                requires=["omcp-absent>=1"])
    # pip prints a line or two per dependency, enough to pass a 1024-byte
    # output cap.
    parts = [f"omcp-part-{i}" for i in range(HELPER_PARTS)]
    build_wheel(directory, "omcp_many", "1.0", {"omcp_many.py": "VALUE = 1\n"},
                requires=[f"{part}==1.0" for part in parts])
    for part in parts:
        module = part.replace("-", "_")
        build_wheel(directory, module, "1.0", {f"{module}.py": "VALUE = 1\n"})
    # Reading a FIFO with no writer blocks, so installing this "wheel"
    # never ends and shows the deadline at work.
    os.mkfifo(directory / "omcp_slow-1.0-py3-none-any.whl")

    directory.chmod(0o777)
    for entry in directory.iterdir():
        entry.chmod(0o666)
    return directory


def package_env(wheelhouse, **extra):
    env = {
        "PACKAGE_INSTALL_ENABLED": "true",
        "PACKAGE_ALLOWLIST": ALLOWLIST,
        "PACKAGE_WHEELHOUSE": str(wheelhouse),
        # The test code uses os and importlib, which a static code
        # validator would reject; the sandbox is what these tests check.
        "CODE_VALIDATION": "off",
    }
    env.update(extra)
    return env


def snapshot(directory):
    """Return {name: (mode, size, sha256)} of the files in DIRECTORY."""
    result = {}
    for entry in sorted(pathlib.Path(directory).iterdir()):
        info = entry.lstat()
        digest = None
        if stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256(entry.read_bytes()).hexdigest()
        result[entry.name] = (stat.S_IMODE(info.st_mode), info.st_size, digest)
    return result


IMPORT_PROBE = """
import json, sys
try:
    import {module} as m
    print(json.dumps({{"value": m.VALUE, "file": m.__file__}}))
except ImportError as error:
    print(json.dumps({{"import_error": str(error)}}))
"""


class PackageTestCase(ServerTestCase):
    """Tests that share one wheelhouse and one server with installation on."""

    @classmethod
    def setUpClass(cls):
        cls.wheelhouse = make_wheelhouse()
        cls.addClassCleanup(shutil.rmtree, cls.wheelhouse, ignore_errors=True)
        cls.server = omcp_client.McpServer(env=package_env(cls.wheelhouse))
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()

    def install(self, sandbox_id, package, **arguments):
        arguments.update({"sandbox_id": sandbox_id, "package": package})
        return self.server.call_tool("install_package", arguments, timeout=120)

    def install_ok(self, sandbox_id, package):
        result = self.install(sandbox_id, package)
        self.assertIs(result.get("success"), True,
                      f"install_package {package!r} failed: {result!r}\n"
                      + self.server.stderr_tail())
        return result

    def import_probe(self, sandbox_id, module):
        return self.run_json(self.server, sandbox_id, IMPORT_PROBE.format(module=module))


class Install(PackageTestCase):

    def test_installed_package_importable(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install_ok(sandbox_id, "omcp_demo==1.0")
        self.assertIn("omcp-demo==1.0", result.get("message", ""))
        self.assertIn("/sandbox/packages", result.get("message", ""))
        self.assertIn("Successfully installed omcp-demo-1.0", result.get("output", ""))
        self.assertEqual(result.get("exit_code"), 0)
        self.assertNotIn("error", result)

        probe = self.import_probe(sandbox_id, "omcp_demo")
        self.assertEqual(probe, {"value": "one", "file": "/sandbox/packages/omcp_demo.py"})

        # pip left no cache or temporary files behind.
        left = self.run_json(self.server, sandbox_id,
                             "import json, os\n"
                             "print(json.dumps([os.listdir('/sandbox'), os.listdir('/tmp')]))")
        self.assertEqual(left, [["packages"], []])

    def test_pip_uses_only_wheelhouse(self):
        sandbox_id = self.new_sandbox(self.server)
        output = self.install_ok(sandbox_id, "omcp-demo==1.0").get("output", "")
        self.assertIn("Looking in links: /wheelhouse", output)
        self.assertNotIn("Looking in indexes", output)
        self.assertIn("Processing /wheelhouse/omcp_demo-1.0-py3-none-any.whl", output)

    def test_other_sandbox_does_not_see_package(self):
        first = self.new_sandbox(self.server)
        second = self.new_sandbox(self.server)
        self.install_ok(first, "omcp-demo==1.0")

        probe = self.import_probe(second, "omcp_demo")
        self.assertIn("import_error", probe, f"the second sandbox imported it: {probe!r}")
        listing = self.run_json(self.server, second,
                                "import json, os\n"
                                "print(json.dumps(os.path.exists('/sandbox/packages')))")
        self.assertIs(listing, False)

    def test_normalised_name_accepted(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install_ok(sandbox_id, "Omcp.Demo==1.0")
        self.assertIn("omcp-demo==1.0", result.get("message", ""))
        self.assertEqual(self.import_probe(sandbox_id, "omcp_demo").get("value"), "one")

    def test_new_pin_replaces_old(self):
        sandbox_id = self.new_sandbox(self.server)
        self.install_ok(sandbox_id, "omcp-demo==1.0")
        self.install_ok(sandbox_id, "omcp-demo==1.1")
        self.assertEqual(self.import_probe(sandbox_id, "omcp_demo").get("value"), "one-one")

    def test_dependency_from_wheelhouse(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install_ok(sandbox_id, "omcp-needs-helper==1.0")
        self.assertIn("omcp-helper-2.0", result.get("message", ""))
        self.assertEqual(self.import_probe(sandbox_id, "omcp_needs_helper").get("value"),
                         "helped")

    def test_missing_pin_fails_clearly(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install(sandbox_id, "omcp-demo==9.9")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        error = result.get("error", "")
        self.assertIn("omcp-demo==9.9 is not in the wheelhouse", error)
        self.assertIn("1.0, 1.1", error, "the error does not list the versions there")
        self.assertNotIn("ERROR:", error, "the error is pip's raw output")
        self.assertIn("No matching distribution found for omcp-demo==9.9",
                      result.get("output", ""), "pip's output tail is missing")
        self.assertNotEqual(result.get("exit_code"), 0)

    def test_missing_dependency_fails_clearly(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install(sandbox_id, "omcp-deep==1.0")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("dependency omcp-absent>=1 is not in the wheelhouse",
                      result.get("error", ""))
        probe = self.import_probe(sandbox_id, "omcp_deep")
        self.assertIn("import_error", probe, "a package with a missing dependency was installed")

    def test_wheelhouse_read_only_in_sandbox(self):
        before = snapshot(self.wheelhouse)
        sandbox_id = self.new_sandbox(self.server)
        code = """
import errno, json, os
wheel = "/wheelhouse/omcp_demo-1.0-py3-none-any.whl"
attempts = {
    "create": lambda: open("/wheelhouse/planted.whl", "w"),
    "overwrite": lambda: open(wheel, "r+b"),
    "remove": lambda: os.remove(wheel),
    "rename": lambda: os.rename(wheel, "/wheelhouse/omcp_demo-9.9-py3-none-any.whl"),
    "chmod": lambda: os.chmod(wheel, 0o600),
    "mkdir": lambda: os.mkdir("/wheelhouse/sub"),
    "utime": lambda: os.utime(wheel, (0, 0)),
}
errors = {}
for name, attempt in attempts.items():
    try:
        attempt()
        errors[name] = "succeeded"
    except OSError as error:
        errors[name] = errno.errorcode.get(error.errno, str(error.errno))
options = None
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    if fields[4] == "/wheelhouse":
        options = fields[5].split(",")
print(json.dumps({"errors": errors, "options": options,
                  "wheels": sorted(os.listdir("/wheelhouse"))}))
"""
        result = self.run_json(self.server, sandbox_id, code)
        self.assertIsNotNone(result["options"], "/wheelhouse is not a mount point")
        self.assertIn("ro", result["options"])
        for name, outcome in result["errors"].items():
            with self.subTest(attempt=name):
                self.assertEqual(outcome, "EROFS")
        self.assertIn("omcp_demo-1.0-py3-none-any.whl", result["wheels"])
        self.assertEqual(snapshot(self.wheelhouse), before, "the wheelhouse changed on the host")

    def test_deadline_applies(self):
        sandbox_id = self.new_sandbox(self.server)
        result = self.install(sandbox_id, "omcp-slow==1.0", timeout=2)
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertEqual(result.get("exit_code"), 124)
        self.assertIn("timed out", result.get("error", ""))
        self.assertGreaterEqual(result.get("duration_ms", 0), 1900)
        # The sandbox still works afterwards.
        self.install_ok(sandbox_id, "omcp-demo==1.0")

    def test_busy_sandbox_rejected(self):
        sandbox_id = self.new_sandbox(self.server)
        request_id = self.server.start_tool_call(
            "execute_python_code",
            {"sandbox_id": sandbox_id, "code": "import time\nprint('started', flush=True)\n"
                                               "time.sleep(10)"})
        omcp_client.wait_until(
            lambda: self.server.running() and self.run_busy_probe(sandbox_id), 10)
        result = self.install(sandbox_id, "omcp-demo==1.0")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("already executing", result.get("error", ""))
        self.assertIs(self.server.tool_result(request_id).get("success"), True)

    def run_busy_probe(self, sandbox_id):
        """True once the sandbox is executing: a second execution is rejected."""
        result = self.server.execute(sandbox_id, "pass")
        return result.get("exit_code") == 75

    def test_unknown_sandbox(self):
        result = self.install(str(uuid.uuid4()), "omcp-demo==1.0")
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("not found", result.get("error", ""))


class Policy(PackageTestCase):
    """Rejections happen before pip runs, so results carry no pip output."""

    REJECTED = [
        ("omcp-demo", "has no version"),
        ("omcp-demo>=1.0", "operator '>='"),
        ("omcp-demo~=1.0", "operator '~='"),
        ("omcp-demo!=1.0", "operator '!='"),
        ("omcp-demo<2", "operator '<'"),
        ("omcp-demo===1.0", "arbitrary equality"),
        ("omcp-demo==1.*", "wildcard"),
        ("omcp-demo==", "no version follows"),
        ("omcp-demo==1.0,<2", "comma"),
        ("omcp-demo==1.0,omcp-helper==2.0", "comma"),
        ("omcp-demo==1.0 omcp-helper==2.0", "whitespace"),
        ("omcp-demo==1.0\nomcp-helper==2.0", "whitespace"),
        ("omcp-demo==1.0;omcp-helper==2.0", "markers"),
        ("omcp-demo[extra]==1.0", "extras"),
        ("--index-url=http://127.0.0.1:9/simple", "options"),
        ("-r", "options"),
        ("-e", "options"),
        ("-e/wheelhouse", "options"),
        ("omcp-demo @ file:///wheelhouse/omcp_demo-1.0-py3-none-any.whl", "URLs"),
        ("git+https://example.invalid/omcp-demo.git", "URLs"),
        ("https://example.invalid/omcp_demo-1.0-py3-none-any.whl", "URLs"),
        ("/wheelhouse/omcp_demo-1.0-py3-none-any.whl", "paths"),
        ("./omcp_demo-1.0-py3-none-any.whl", "paths"),
        ("omcp_demo-1.0-py3-none-any.whl", "paths"),
        ("", "is empty"),
        ("   ", "is empty"),
    ]

    def setUp(self):
        self.sandbox_id = self.new_sandbox(self.server)

    def test_rejected_forms_give_reason(self):
        for package, reason in self.REJECTED:
            with self.subTest(package=package):
                result = self.install(self.sandbox_id, package)
                self.assertIs(result.get("success"), False, f"result: {result!r}")
                self.assertIn(reason, result.get("error", ""))
                self.assertNotIn("output", result, "pip ran for a rejected requirement")
        listing = self.run_json(self.server, self.sandbox_id,
                                "import json, os\n"
                                "print(json.dumps(os.path.exists('/sandbox/packages')))")
        self.assertIs(listing, False, "a rejected requirement installed something")

    def test_name_not_on_allowlist(self):
        # omcp-helper is in the wheelhouse, but only as a dependency.
        for package in ("omcp-helper==2.0", "requests==2.31.0", "omcp-dem==1.0"):
            with self.subTest(package=package):
                result = self.install(self.sandbox_id, package)
                self.assertIs(result.get("success"), False, f"result: {result!r}")
                error = result.get("error", "")
                self.assertIn("is not in PACKAGE_ALLOWLIST", error)
                self.assertIn("omcp-demo, omcp-needs-helper, omcp-deep", error)

    def test_result_matches_output_schema(self):
        tools = {tool["name"]: tool for tool in self.server.result("tools/list")["tools"]}
        schema = tools["install_package"]["outputSchema"]
        results = [
            self.install(self.sandbox_id, "omcp-demo==1.0"),
            self.install(self.sandbox_id, "omcp-demo==9.9"),
            self.install(self.sandbox_id, "omcp-demo>=1"),
        ]
        for result in results:
            with self.subTest(result=result):
                self.assertLessEqual(set(result), set(schema["properties"]),
                                     "a result field is missing from the output schema")
                for field, value in result.items():
                    expected = {"boolean": bool, "string": str, "integer": int}[
                        schema["properties"][field]["type"]]
                    self.assertIsInstance(value, expected, f"field {field}")


class OutputCap(ServerTestCase):

    def test_output_cap_applies(self):
        wheelhouse = make_wheelhouse()
        self.addCleanup(shutil.rmtree, wheelhouse, ignore_errors=True)
        server = self.start_server(env=package_env(wheelhouse,
                                                   EXECUTION_MAX_OUTPUT_BYTES="1024"))
        sandbox_id = self.new_sandbox(server)
        result = server.call_tool("install_package", {"sandbox_id": sandbox_id,
                                                      "package": "omcp-many==1.0"}, timeout=120)
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("exceeded 1024 bytes", result.get("error", ""))
        self.assertEqual(result.get("exit_code"), 137)


class Disabled(ServerTestCase):

    def test_disabled_by_default(self):
        wheelhouse = make_wheelhouse()
        self.addCleanup(shutil.rmtree, wheelhouse, ignore_errors=True)
        for enabled in (None, "false"):
            with self.subTest(PACKAGE_INSTALL_ENABLED=enabled):
                env = package_env(wheelhouse, PACKAGE_INSTALL_ENABLED=enabled)
                server = self.start_server(env=env)
                sandbox_id = self.new_sandbox(server)
                result = server.call_tool("install_package", {"sandbox_id": sandbox_id,
                                                              "package": "omcp-demo==1.0"})
                self.assertEqual(result, {"success": False,
                                          "error": "Package installation is disabled by policy"})
                # Without installation, sandboxes do not see the wheelhouse.
                seen = self.run_json(server, sandbox_id,
                                     "import json, os\n"
                                     "print(json.dumps(os.path.exists('/wheelhouse')))")
                self.assertIs(seen, False)

    def test_disabled_ignores_bad_wheelhouse(self):
        server = self.start_server(env={"PACKAGE_WHEELHOUSE": "relative/wheels",
                                        "PACKAGE_ALLOWLIST": "numpy>=1"})
        self.new_sandbox(server)


class EmptyAllowlist(ServerTestCase):

    def test_empty_allowlist_allows_nothing(self):
        wheelhouse = make_wheelhouse()
        self.addCleanup(shutil.rmtree, wheelhouse, ignore_errors=True)
        server = self.start_server(env=package_env(wheelhouse, PACKAGE_ALLOWLIST=" , "))
        sandbox_id = self.new_sandbox(server)
        result = server.call_tool("install_package", {"sandbox_id": sandbox_id,
                                                      "package": "omcp-demo==1.0"})
        self.assertIs(result.get("success"), False, f"result: {result!r}")
        self.assertIn("PACKAGE_ALLOWLIST", result.get("error", ""))
        self.assertIn("is empty", result.get("error", ""))
        self.assertIn("PACKAGE_ALLOWLIST is empty", server.stderr_text(),
                      "no warning at start")


class StartupChecks(ServerTestCase):

    def start_failing(self, env):
        """Start a server that must refuse its configuration; return (code, stdout, stderr)."""
        full_env = omcp_client.base_environment()
        full_env.update(env)
        process = subprocess.Popen([str(omcp_client.omcp_binary()), "serve"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=full_env,
                                   cwd=tempfile.mkdtemp(dir=omcp_client.LOG_DIR))
        try:
            # stdin stays open: the server must stop on its own, not on EOF.
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            self.fail(f"the server kept running with {env!r}")
        finally:
            process.stdin.close()
        return process.returncode, stdout.decode(errors="replace"), stderr.decode(
            errors="replace")

    def test_bad_wheelhouse_stops_server(self):
        wheelhouse = make_wheelhouse()
        self.addCleanup(shutil.rmtree, wheelhouse, ignore_errors=True)
        wheel = wheelhouse / "omcp_demo-1.0-py3-none-any.whl"
        cases = [
            ("", "PACKAGE_WHEELHOUSE is not set"),
            ("wheels", "expected an absolute path"),
            ("/nonexistent/omcp/wheels", "No such file or directory"),
            (str(wheel), "not a directory"),
        ]
        for value, reason in cases:
            with self.subTest(PACKAGE_WHEELHOUSE=value):
                code, stdout, stderr = self.start_failing(
                    package_env(wheelhouse, PACKAGE_WHEELHOUSE=value))
                self.assertEqual(code, 2, f"stderr: {stderr!r}")
                self.assertIn("PACKAGE_WHEELHOUSE", stderr)
                self.assertIn(reason, stderr)
                self.assertEqual(stdout, "", "a configuration error went to stdout")

    def test_unreadable_wheelhouse_stops_server(self):
        parent = pathlib.Path(tempfile.mkdtemp(prefix="omcp-private-", dir="/tmp"))
        self.addCleanup(shutil.rmtree, parent, ignore_errors=True)
        wheelhouse = parent / "wheels"
        wheelhouse.mkdir(mode=0o700)
        wheelhouse.chmod(0o700)
        code, stdout, stderr = self.start_failing(package_env(wheelhouse))
        self.assertEqual(code, 2, f"stderr: {stderr!r}")
        self.assertIn(str(wheelhouse), stderr)
        self.assertIn("readable and searchable by every user", stderr)
        self.assertEqual(stdout, "")

    def test_bad_allowlist_stops_server(self):
        wheelhouse = make_wheelhouse()
        self.addCleanup(shutil.rmtree, wheelhouse, ignore_errors=True)
        for value in ("numpy>=1.0", "numpy==1.0, pandas", "num py"):
            with self.subTest(PACKAGE_ALLOWLIST=value):
                code, stdout, stderr = self.start_failing(
                    package_env(wheelhouse, PACKAGE_ALLOWLIST=value))
                self.assertEqual(code, 2, f"stderr: {stderr!r}")
                self.assertIn("PACKAGE_ALLOWLIST", stderr)
                self.assertEqual(stdout, "")


if __name__ == "__main__":
    omcp_client.main()
