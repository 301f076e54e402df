#!/usr/bin/python3
"""Command-line tests: --help, --version, doctor and run."""

import os
import re
import shutil
import subprocess
import tempfile

import omcp_client


def project_version():
    """Return the version declared in the top-level meson.build."""
    text = (omcp_client.REPO_ROOT / "meson.build").read_text()
    match = re.search(r"version\s*:\s*'([^']+)'", text)
    return match.group(1) if match else None


class CommandLine(omcp_client.ServerTestCase):

    def omcp(self, *args, env=None, timeout=120, cwd=None):
        full_env = omcp_client.base_environment(log_level=None)
        full_env.update(env or {})
        return subprocess.run([str(omcp_client.omcp_binary()), *args], capture_output=True,
                              text=True, errors="replace", env=full_env, timeout=timeout,
                              stdin=subprocess.DEVNULL,
                              cwd=cwd or tempfile.mkdtemp(dir=omcp_client.LOG_DIR))

    def write_script(self, text):
        directory = tempfile.mkdtemp(dir=omcp_client.LOG_DIR)
        path = os.path.join(directory, "script.py")
        with open(path, "w") as script:
            script.write(text)
        return path

    def test_help(self):
        completed = self.omcp("--help")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        for word in ("serve", "doctor", "run"):
            self.assertIn(word, completed.stdout, f"--help does not mention {word}")

    def test_version(self):
        completed = self.omcp("--version")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn(project_version(), completed.stdout)

    def test_unknown_subcommand(self):
        completed = self.omcp("frobnicate")
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("frobnicate", completed.stderr)
        self.assertEqual(completed.stdout, "")

    def test_doctor_passes_here(self):
        completed = self.omcp("doctor")
        self.assertEqual(completed.returncode, 0,
                         f"doctor failed:\n{completed.stdout}\n{completed.stderr}")
        self.assertTrue((completed.stdout + completed.stderr).strip(), "doctor printed nothing")

    def test_run_host_submount_read_only(self):
        # A host mount below /usr must be as read-only inside as /usr. The
        # tmpfs lives in a private mount namespace, so the host is untouched.
        if os.geteuid() != 0:
            self.skipTest("mounting a probe file system needs root")
        target = "/usr/local/src"
        if not os.path.isdir(target):
            self.skipTest(f"{target} does not exist on this host")
        path = self.write_script(
            "import json\n"
            "try:\n"
            "    open('/usr/local/src/probe', 'w').write('x')\n"
            "    print(json.dumps('written'))\n"
            "except OSError as error:\n"
            "    print(json.dumps(error.errno))\n")
        command = ("mount -t tmpfs -o mode=1777 omcp-probe %s && exec \"$0\" run \"$1\""
                   % target)
        completed = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", command,
             str(omcp_client.omcp_binary()), path],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            env=omcp_client.base_environment(log_level=None))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.strip(), "30",
                         "write to a host submount of /usr did not fail with EROFS")

    def test_serve_names_missing_syscall(self):
        # On a kernel without mount_setattr (before Linux 5.12) the server
        # must refuse to start and name the cause, not run with a layer missing.
        wrapper = os.environ.get("OMCP_ENOSYS")
        if not wrapper or not os.path.exists(wrapper):
            self.skipTest("the enosys helper is built by meson; run through meson test")
        completed = subprocess.run(
            [wrapper, "mount_setattr", str(omcp_client.omcp_binary()), "serve"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            env=omcp_client.base_environment(log_level=None))
        self.assertNotEqual(completed.returncode, 0, "serve started without mount_setattr")
        self.assertEqual(completed.stdout, "", "serve wrote to stdout")
        self.assertIn("Linux 5.12", completed.stderr)
        self.assertIn("bind-mount host path read-only", completed.stderr)

    def test_unprivileged_run_maps_to_user(self):
        # An ordinary user gets the same jail, mapped to that user, and only
        # rlimits where no cgroup is writable, with a warning.
        if os.geteuid() != 0:
            self.skipTest("switching to the nobody user needs root")
        # Outside the test's private log directory, which uid 65534 cannot enter.
        directory = tempfile.mkdtemp(prefix="omcp-it-nobody-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        os.chmod(directory, 0o755)
        path = os.path.join(directory, "script.py")
        with open(path, "w") as script:
            script.write("import os\n"
                         "print(os.getuid(), open('/proc/self/uid_map').read().split())\n")
        os.chmod(path, 0o644)
        # A copy of the binary, since uid 65534 may not reach the build tree.
        binary = os.path.join(directory, "omcp")
        shutil.copy2(omcp_client.omcp_binary(), binary)
        os.chmod(binary, 0o755)
        completed = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary, "run", path],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            cwd=directory, env=omcp_client.base_environment(log_level=None))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.strip(), "1000 ['1000', '65534', '1']",
                         "uid 1000 inside is not mapped to the invoking user")
        if omcp_client.cgroup_v1_writable_by(65534):
            return
        self.assertIn("falling back to rlimits", completed.stderr)

    def test_run_prints_output(self):
        path = self.write_script("import os\nprint('hello from run', os.getuid())\n")
        completed = self.omcp("run", path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout, "hello from run 1000\n")

    def test_run_returns_exit_code(self):
        path = self.write_script("import sys\nprint('partial')\nsys.exit(3)\n")
        completed = self.omcp("run", path)
        self.assertEqual(completed.returncode, 3, completed.stderr)
        self.assertEqual(completed.stdout, "partial\n")

    def test_run_exception(self):
        path = self.write_script("raise ValueError('broken script')\n")
        completed = self.omcp("run", path)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("Traceback", completed.stderr)
        self.assertIn("ValueError: broken script", completed.stderr)

    def test_run_forwards_stderr(self):
        path = self.write_script("import sys\nprint('to stderr', file=sys.stderr)\n")
        completed = self.omcp("run", path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("to stderr", completed.stderr)
        self.assertEqual(completed.stdout, "")

    def test_run_is_sandboxed(self):
        path = self.write_script(
            "import os\n"
            "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status') if ':\\t' in l)\n"
            "print(os.getcwd(), status['NoNewPrivs'].strip(), status['Seccomp'].strip(),\n"
            f"      os.path.exists({str(omcp_client.REPO_ROOT)!r}))\n")
        completed = self.omcp("run", path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout, "/sandbox 1 2 False\n")

    def test_run_timeout(self):
        path = self.write_script("import time\ntime.sleep(60)\n")
        completed = self.omcp("run", path, env={"EXECUTION_DEFAULT_TIMEOUT": "2"}, timeout=40)
        self.assertEqual(completed.returncode, 124, completed.stderr)

    def test_run_missing_file(self):
        missing = os.path.join(tempfile.mkdtemp(dir=omcp_client.LOG_DIR), "absent.py")
        completed = self.omcp("run", missing)
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("absent.py", completed.stderr)

    def test_run_with_pandas(self):
        path = self.write_script(
            "import pandas as pd\n"
            "frame = pd.DataFrame({'a': [1, 2, 3], 'b': [10, 20, 30]})\n"
            "print(int(frame['a'].sum()), int(frame['b'].mean()))\n")
        completed = self.omcp("run", path, env={"EXECUTION_DEFAULT_TIMEOUT": "120"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout, "6 20\n")

    def test_run_rejects_invalid_config(self):
        path = self.write_script("print(1)\n")
        completed = self.omcp("run", path, env={"SANDBOX_NETWORK": "host"})
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("SANDBOX_NETWORK", completed.stderr)


if __name__ == "__main__":
    omcp_client.main()
