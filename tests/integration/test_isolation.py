#!/usr/bin/python3
"""Isolation tests: what code inside a sandbox can see and do.

Each probe expects one specific failure. Syscall probes pass invalid
arguments, so a call that the seccomp filter wrongly allows fails
harmlessly with another errno, and only the filter's EPERM passes.
"""

import errno
import json
import os
import pathlib
import socket
import uuid

import omcp_client
from omcp_client import McpServer, ServerTestCase, SharedSandboxTestCase

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_SIGHAND = 0x00000800

# Flags that glibc's pthread_create passes to clone: CLONE_VM, CLONE_FS,
# CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD, CLONE_SYSVSEM, CLONE_SETTLS,
# CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID.
CLONE_THREAD_FLAGS = 0x003D0F00

NAMESPACE_FLAGS = {
    "NEWNS": CLONE_NEWNS,
    "NEWCGROUP": CLONE_NEWCGROUP,
    "NEWUTS": CLONE_NEWUTS,
    "NEWIPC": CLONE_NEWIPC,
    "NEWUSER": CLONE_NEWUSER,
    "NEWPID": CLONE_NEWPID,
    "NEWNET": CLONE_NEWNET,
}

TIOCSTI = 0x5412
TCGETS = 0x5401

# (name, x86_64 syscall number, arguments). The comment gives what Linux 6.x
# returns to an unprivileged process when no filter stops the call. Where
# that is EPERM as well, the probe alone cannot tell the filter from the
# capability check; test_filter_* reads the filter itself to cover them.
SYSCALL_PROBES = [
    ("mount", 165, [1, 1, 1, 0, 0]),                  # EFAULT copying the type
    ("umount2", 166, [1, 0x7FFF0000]),                # EINVAL for unknown flags
    ("pivot_root", 155, [1, 1]),                      # EPERM without CAP_SYS_ADMIN
    ("chroot", 161, [1]),                             # EFAULT copying the path
    ("unshare", 272, [CLONE_NEWUSER | CLONE_NEWNS | 1]),  # EINVAL for bit 0
    ("setns", 308, [-1, 0]),                          # EBADF
    ("ptrace", 101, [2, 0x3FFFFFFF, 0, 0]),           # ESRCH for a pid past pid_max
    ("process_vm_readv", 310, [0, 0, 0, 0, 0, 1]),    # EINVAL for flags
    ("process_vm_writev", 311, [0, 0, 0, 0, 0, 1]),   # EINVAL for flags
    ("kexec_load", 246, [0, 0, 0, 0x7FFF0000]),       # EPERM, or ENOSYS when not built
    ("init_module", 175, [1, 0, 1]),                  # EPERM without CAP_SYS_MODULE
    ("finit_module", 313, [-1, 1, 0x7FFF]),           # EPERM without CAP_SYS_MODULE
    ("delete_module", 176, [1, 0]),                   # EPERM without CAP_SYS_MODULE
    ("bpf", 321, [0, 1, 16]),                         # EFAULT copying the attributes
    ("perf_event_open", 298, [1, 0, -1, -1, 0]),      # EFAULT copying the attributes
    ("userfaultfd", 323, [0x3]),                      # EINVAL for flag 0x2
    ("io_uring_setup", 425, [0, 1]),                  # EFAULT copying the parameters
    ("io_uring_enter", 426, [-1, 0, 0, 0, 0, 0]),     # EBADF
    ("io_uring_register", 427, [-1, 0, 0, 0]),        # EBADF
    ("keyctl", 250, [0x7FFF, 0, 0, 0, 0]),            # EOPNOTSUPP for the operation
    ("add_key", 248, [1, 1, 0, 0, 0]),                # EFAULT copying the type
    ("request_key", 249, [1, 1, 0, 0]),               # EFAULT copying the type
    ("swapon", 167, [1, -1]),                         # EINVAL for the flags
    ("swapoff", 168, [1]),                            # EPERM without CAP_SYS_ADMIN
    ("reboot", 169, [0, 0, 0, 0]),                    # EPERM, and wrong magic numbers
    ("acct", 163, [1]),                               # EPERM without CAP_SYS_PACCT
    ("quotactl", 179, [0xFF, 1, 0, 0]),               # EINVAL for the quota type
    ("open_by_handle_at", 304, [-1, 1, 0]),           # EBADF
    ("name_to_handle_at", 303, [-1, 1, 1, 1, 0x7FFFFFFF]),  # EINVAL for the flags
    ("syslog", 103, [10, 0, 0]),                      # buffer size, or EPERM
    ("settimeofday", 164, [1, 0]),                    # EFAULT copying the time
    ("clock_settime", 227, [100, 1]),                 # EINVAL for the clock id
    ("adjtimex", 159, [1]),                           # EFAULT copying the buffer
    ("ioctl_TIOCSTI", 16, [-1, TIOCSTI, 0]),          # EBADF
    # The kernel reads the ioctl request as 32 bits, so bits above them must
    # not get the call past the filter.
    ("ioctl_TIOCSTI_high_bits", 16, [-1, (1 << 32) | TIOCSTI, 0]),  # EBADF
    ("socket_AF_INET", 41, [2, 1, 0]),                # a socket
    ("socket_AF_INET6", 41, [10, 1, 0]),              # a socket
    ("socket_AF_PACKET", 41, [17, 3, 0]),             # EPERM without CAP_NET_RAW
    ("socket_AF_NETLINK", 41, [16, 3, 0]),            # a socket
    ("socket_AF_INET_high_bits", 41, [(1 << 32) | 2, 1, 0]),  # a socket
]
# clone with CLONE_SIGHAND and without CLONE_VM fails with EINVAL.
for _flag_name, _flag in NAMESPACE_FLAGS.items():
    SYSCALL_PROBES.append((f"clone_{_flag_name}", 56, [_flag | CLONE_SIGHAND, 0, 0, 0, 0]))

CLONE3_PROBE = ("clone3", 435, [0, 0])  # EINVAL for a zero size

# Calls the filter must allow, so that a filter denying everything fails.
ALLOWED_CALLS = [
    ("getpid", 39, []),
    ("read", 0, [0, 0, 0]),
    ("clone_thread", 56, [CLONE_THREAD_FLAGS, 0, 0, 0, 0]),
    ("socket_AF_UNIX", 41, [1, 1, 0]),
    ("ioctl_TCGETS", 16, [0, TCGETS, 0]),
]

PROBE_CODE = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}
for name, number, args in json.loads(PROBES):
    ctypes.set_errno(0)
    value = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    error = ctypes.get_errno()
    if value >= 0 and name.startswith("socket"):
        os.close(value)
    results[name] = {"return": value, "errno": error}
print(json.dumps(results))
"""

SPAWN_MARKED_CHILD = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {marker}])
print("spawned", flush=True)
time.sleep({seconds})
"""


def errno_name(number):
    return errno.errorcode.get(number, str(number))


class SandboxIdentity(SharedSandboxTestCase):
    # A variable of the server's environment that must not reach the sandbox.
    canary = "canary-" + uuid.uuid4().hex
    SERVER_ENV = {"OMCP_IT_CANARY": canary}

    def test_user_and_group(self):
        info = self.sandbox_json(
            "import os, pwd, grp, json\n"
            "print(json.dumps({'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(),\n"
            "  'egid': os.getegid(), 'groups': os.getgroups(),\n"
            "  'user': pwd.getpwuid(os.getuid()).pw_name,\n"
            "  'home': pwd.getpwuid(os.getuid()).pw_dir,\n"
            "  'group': grp.getgrgid(os.getgid()).gr_name}))\n")
        self.assertEqual(info["uid"], 1000)
        self.assertEqual(info["euid"], 1000)
        self.assertEqual(info["gid"], 1000)
        self.assertEqual(info["egid"], 1000)
        self.assertEqual(info["user"], "sandboxuser")
        self.assertEqual(info["group"], "sandboxuser")
        self.assertEqual(info["home"], "/sandbox")
        self.assertTrue(set(info["groups"]) <= {1000}, f"supplementary groups {info['groups']}")

    def test_cannot_become_root(self):
        info = self.sandbox_json(
            "import os, json\n"
            "out = {}\n"
            "for name, call in (('setuid', lambda: os.setuid(0)),\n"
            "                   ('setgid', lambda: os.setgid(0))):\n"
            "    try:\n"
            "        call(); out[name] = 'ok'\n"
            "    except OSError as e:\n"
            "        out[name] = e.errno\n"
            "print(json.dumps(out))\n")
        # EINVAL when the namespace maps no uid 0, EPERM when it maps one.
        self.assertIn(info["setuid"], (errno.EPERM, errno.EINVAL), f"setuid(0): {info!r}")
        self.assertIn(info["setgid"], (errno.EPERM, errno.EINVAL), f"setgid(0): {info!r}")

    def test_process_status_fields(self):
        status = self.sandbox_json(
            "import json\n"
            "fields = dict(line.split(':\\t', 1) for line in open('/proc/self/status')\n"
            "              if ':\\t' in line)\n"
            "print(json.dumps({k: v.strip() for k, v in fields.items()}))\n")
        self.assertEqual(int(status["CapEff"], 16), 0, f"CapEff {status['CapEff']}")
        self.assertEqual(int(status["CapPrm"], 16), 0, f"CapPrm {status['CapPrm']}")
        self.assertEqual(int(status.get("CapAmb", "0"), 16), 0, f"CapAmb {status.get('CapAmb')}")
        self.assertEqual(status["NoNewPrivs"], "1")
        self.assertEqual(status["Seccomp"], "2")
        # The server blocks SIGTERM and SIGINT in its own threads; the
        # sandbox must not inherit that mask.
        self.assertEqual(int(status["SigBlk"], 16), 0, f"SigBlk {status['SigBlk']}")

    def test_host_uid_not_root(self):
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=30)
        request_id = self.server.start_tool_call("execute_python_code", {
            "sandbox_id": self.sandbox_id, "code": code, "timeout": 60})
        try:
            pid = self.wait_for_processes(marker)[0]
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
            uids = next(line for line in status.splitlines() if line.startswith("Uid:"))
            host_uids = [int(value) for value in uids.split()[1:]]
            self.assertNotIn(0, host_uids, f"sandbox code runs as host root: {uids}")
        finally:
            self.server.notify("notifications/cancelled", {"requestId": request_id})
            omcp_client.wait_for_no_processes(marker, 10)

    def test_namespaces_differ_from_host(self):
        inside = self.sandbox_json(
            "import os, json\n"
            "print(json.dumps({n: os.readlink('/proc/self/ns/' + n) for n in\n"
            "  ('mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup')}))\n")
        for name, link in inside.items():
            with self.subTest(namespace=name):
                self.assertNotEqual(link, os.readlink(f"/proc/self/ns/{name}"),
                                    f"the sandbox shares the host {name} namespace")

    def test_pid_one_is_supervisor(self):
        info = self.sandbox_json(
            "import os, json\n"
            "pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]\n"
            "cmdlines = {}\n"
            "for p in pids:\n"
            "    try:\n"
            "        cmdlines[p] = open(f'/proc/{p}/cmdline', 'rb').read().decode(\n"
            "            errors='replace').split('\\0')\n"
            "    except OSError:\n"
            "        pass\n"
            "print(json.dumps({'pids': pids, 'cmdlines': cmdlines, 'self': os.getpid()}))\n")
        self.assertIn(1, info["pids"])
        self.assertTrue(info["cmdlines"].get("1", [""])[0].startswith("omcp-sandbox"),
                        f"PID 1 is {info['cmdlines'].get('1')!r}")
        self.assertLess(len(info["pids"]), 10, f"the sandbox sees many processes: {info!r}")
        for argv in info["cmdlines"].values():
            self.assertNotIn("serve", argv[1:2], f"the server process is visible: {argv!r}")

    def test_server_environment_invisible(self):
        found = self.sandbox_json(
            "import os, json\n"
            f"server_pid = {self.server.pid}\n"
            "canary = " + omcp_client.marker_literal(self.canary) + "\n"
            "hits = [k for k, v in os.environ.items() if canary in v]\n"
            "for p in [d for d in os.listdir('/proc') if d.isdigit()] + [str(server_pid)]:\n"
            "    for name in ('environ', 'cmdline'):\n"
            "        try:\n"
            "            data = open(f'/proc/{p}/{name}', 'rb').read()\n"
            "        except OSError:\n"
            "            continue\n"
            "        if canary.encode() in data:\n"
            "            hits.append(f'/proc/{p}/{name}')\n"
            "print(json.dumps(hits))\n")
        self.assertEqual(found, [], "the server environment leaked into the sandbox")

    def test_environment_minimal(self):
        environment = self.sandbox_json("import os, json; print(json.dumps(dict(os.environ)))")
        self.assertNotIn("OMCP_IT_CANARY", environment)
        self.assertEqual(environment.get("HOME"), "/sandbox")
        for key in environment:
            self.assertNotIn(key, omcp_client.CONFIG_VARIABLES,
                             f"server setting {key} reached the sandbox")


class SeccompProbes(SharedSandboxTestCase):

    def run_probes(self, probes):
        code = f"PROBES = {json.dumps(json.dumps(probes))}\n" + PROBE_CODE
        return self.run_json(self.server, self.sandbox_id, code)

    def test_denied_syscalls_fail_with_eperm(self):
        results = self.run_probes(SYSCALL_PROBES)
        for name, _, _ in SYSCALL_PROBES:
            with self.subTest(syscall=name):
                outcome = results[name]
                self.assertEqual(outcome["return"], -1, f"{name} succeeded: {outcome!r}")
                self.assertEqual(errno_name(outcome["errno"]), "EPERM",
                                 f"{name} failed with {errno_name(outcome['errno'])}")

    def test_clone3_enosys(self):
        results = self.run_probes([CLONE3_PROBE])
        outcome = results["clone3"]
        self.assertEqual(outcome["return"], -1)
        self.assertEqual(errno_name(outcome["errno"]), "ENOSYS")

    def test_allowed_calls_still_work(self):
        results = self.run_probes([ALLOWED_CALLS[0], ALLOWED_CALLS[3]])
        self.assertGreater(results["getpid"]["return"], 0, f"getpid: {results['getpid']!r}")
        self.assertGreaterEqual(results["socket_AF_UNIX"]["return"], 0,
                                f"socket(AF_UNIX): {results['socket_AF_UNIX']!r}")

    def test_threads_and_processes_work(self):
        info = self.sandbox_json(
            "import json, threading, subprocess, os, concurrent.futures\n"
            "values = []\n"
            "threads = [threading.Thread(target=values.append, args=(i,)) for i in range(8)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "with concurrent.futures.ThreadPoolExecutor(4) as pool:\n"
            "    squares = list(pool.map(lambda x: x * x, range(10)))\n"
            "child = subprocess.run(['/usr/bin/python3', '-c', 'print(7)'],\n"
            "                       capture_output=True, text=True)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os._exit(5)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "print(json.dumps({'values': sorted(values), 'squares': squares,\n"
            "  'child': child.stdout, 'fork': os.waitstatus_to_exitcode(status)}))\n")
        self.assertEqual(info["values"], list(range(8)))
        self.assertEqual(info["squares"], [x * x for x in range(10)])
        self.assertEqual(info["child"], "7\n")
        self.assertEqual(info["fork"], 5)

    def test_python_sockets_denied(self):
        info = self.sandbox_json(
            "import socket, json\n"
            "out = {}\n"
            "for name, family, kind in (('AF_INET', socket.AF_INET, socket.SOCK_STREAM),\n"
            "    ('AF_INET_UDP', socket.AF_INET, socket.SOCK_DGRAM),\n"
            "    ('AF_INET6', socket.AF_INET6, socket.SOCK_STREAM),\n"
            "    ('AF_PACKET', socket.AF_PACKET, socket.SOCK_RAW),\n"
            "    ('AF_NETLINK', socket.AF_NETLINK, socket.SOCK_RAW)):\n"
            "    try:\n"
            "        socket.socket(family, kind).close(); out[name] = 'created'\n"
            "    except OSError as e:\n"
            "        out[name] = e.errno\n"
            "print(json.dumps(out))\n")
        for name, outcome in info.items():
            with self.subTest(family=name):
                self.assertEqual(outcome, errno.EPERM, f"socket({name}): {outcome!r}")


class SeccompFilter(ServerTestCase):
    """Reads the filter of a sandboxed process with ptrace and runs it here."""

    @classmethod
    def setUpClass(cls):
        cls.server = McpServer()
        cls.addClassCleanup(cls.server.kill)
        cls.server.initialize()
        sandbox_id = cls.server.create_sandbox()
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=120)
        cls.request_id = cls.server.start_tool_call("execute_python_code", {
            "sandbox_id": sandbox_id, "code": code, "timeout": 150})
        pids = omcp_client.wait_until(lambda: omcp_client.pids_with_marker(marker), 20)
        cls.filters = None
        cls.problem = None
        if not pids:
            cls.problem = "the sandboxed process did not start"
            return
        try:
            cls.filters = omcp_client.read_seccomp_filters(pids[0])
        except omcp_client.SeccompUnavailable as error:
            cls.problem = str(error)


    def setUp(self):
        if self.problem and "PTRACE" in self.problem:
            self.skipTest(f"cannot read seccomp filters on this kernel: {self.problem}")
        self.assertIsNone(self.problem, self.problem)
        self.assertTrue(self.filters, "the sandboxed process has no seccomp filter")

    def action(self, number, args=(), arch=omcp_client.AUDIT_ARCH_X86_64):
        return omcp_client.seccomp_action(self.filters, number, arch, args)

    def assert_action(self, name, number, args, expected):
        action = self.action(number, args)
        self.assertEqual(omcp_client.describe_action(action),
                         omcp_client.describe_action(expected),
                         f"filter action for {name}{tuple(args)}")

    def test_filter_denies_each_syscall(self):
        eperm = omcp_client.SECCOMP_RET_ERRNO | errno.EPERM
        for name, number, args in SYSCALL_PROBES:
            with self.subTest(syscall=name):
                self.assert_action(name, number, args, eperm)
                if not name.startswith(("clone", "ioctl", "socket")):
                    self.assert_action(name, number, [0] * 6, eperm)

    def test_filter_clone3_enosys(self):
        self.assert_action("clone3", 435, [0, 0], omcp_client.SECCOMP_RET_ERRNO | errno.ENOSYS)

    def test_filter_prlimit_only_on_self(self):
        # prlimit64(pid, resource, new_limit, old_limit); 7 is RLIMIT_NOFILE.
        eperm = omcp_client.SECCOMP_RET_ERRNO | errno.EPERM
        allow = omcp_client.SECCOMP_RET_ALLOW
        self.assert_action("prlimit64 set PID 1", 302, [1, 7, 0x1000, 0], eperm)
        self.assert_action("prlimit64 set and get PID 1", 302, [1, 7, 0x1000, 0x2000], eperm)
        self.assert_action("prlimit64 set self", 302, [0, 7, 0x1000, 0], allow)
        self.assert_action("prlimit64 get PID 1", 302, [1, 7, 0, 0x2000], allow)

    def test_filter_allows_ordinary_calls(self):
        for name, number, args in ALLOWED_CALLS:
            with self.subTest(syscall=name):
                self.assert_action(name, number, args, omcp_client.SECCOMP_RET_ALLOW)

    def test_filter_rejects_x32_numbers(self):
        # x32 system calls are x86_64 calls with bit 30 set in the number.
        for name, number in (("mount", 165), ("unshare", 272), ("ptrace", 101)):
            with self.subTest(syscall=name):
                action = self.action(number | 0x40000000)
                self.assertNotEqual(action & omcp_client.SECCOMP_RET_ACTION_FULL,
                                    omcp_client.SECCOMP_RET_ALLOW,
                                    f"x32 {name} is allowed")

    def test_filter_rejects_i386_calls(self):
        # i386 numbers: mount 21, ptrace 26, socketcall 102, unshare 310.
        for name, number in (("mount", 21), ("ptrace", 26), ("socketcall", 102),
                             ("unshare", 310)):
            with self.subTest(syscall=name):
                action = self.action(number, arch=omcp_client.AUDIT_ARCH_I386)
                self.assertNotEqual(action & omcp_client.SECCOMP_RET_ACTION_FULL,
                                    omcp_client.SECCOMP_RET_ALLOW,
                                    f"i386 {name} is allowed")


class Network(SharedSandboxTestCase):

    def test_tcp_to_host_loopback_fails(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]

        outcome = self.run_json(self.server, self.sandbox_id,
                                "import socket, json\n"
                                "try:\n"
                                f"    socket.create_connection(('127.0.0.1', {port}), 3).close()\n"
                                "    print(json.dumps('connected'))\n"
                                "except OSError as e:\n"
                                "    print(json.dumps(e.errno))\n")
        self.assertNotEqual(outcome, "connected", "the sandbox reached a host TCP port")
        self.assertEqual(outcome, errno.EPERM, f"connect failed with {outcome!r}")
        listener.setblocking(False)
        with self.assertRaises(BlockingIOError, msg="the host listener got a connection"):
            listener.accept()

    def test_abstract_unix_socket_unreachable(self):
        name = "\0omcp-it-" + uuid.uuid4().hex
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(name)
        listener.listen(5)

        outcome = self.run_json(self.server, self.sandbox_id,
                                "import socket, json\n"
                                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                                "try:\n"
                                f"    s.connect({name!r}); print(json.dumps('connected'))\n"
                                "except OSError as e:\n"
                                "    print(json.dumps(e.errno))\n")
        self.assertNotEqual(outcome, "connected", "the sandbox reached a host abstract socket")
        listener.setblocking(False)
        with self.assertRaises(BlockingIOError, msg="the host listener got a connection"):
            listener.accept()

    def test_only_loopback_interface(self):
        interfaces = self.run_json(self.server, self.sandbox_id,
                                   "import json\n"
                                   "lines = open('/proc/net/dev').read().splitlines()[2:]\n"
                                   "print(json.dumps([l.split(':')[0].strip() for l in lines]))\n")
        self.assertEqual(interfaces, ["lo"])


class Filesystem(SharedSandboxTestCase):

    def test_no_shadow(self):
        info = self.sandbox_json(
            "import os, json\n"
            "print(json.dumps([p for p in ('/etc/shadow', '/etc/gshadow', '/etc/shadow-')\n"
            "                  if os.path.lexists(p)]))\n")
        self.assertEqual(info, [], "shadow files exist in the sandbox")

    def test_generated_passwd(self):
        passwd = self.sandbox_json("import json; print(json.dumps(open('/etc/passwd').read()))")
        self.assertNotEqual(passwd, pathlib.Path("/etc/passwd").read_text(),
                            "the sandbox sees the host /etc/passwd")
        entries = [line.split(":") for line in passwd.splitlines() if line]
        sandbox_user = [entry for entry in entries if entry[0] == "sandboxuser"]
        self.assertEqual(len(sandbox_user), 1, f"/etc/passwd: {passwd!r}")
        self.assertEqual(sandbox_user[0][2:4], ["1000", "1000"])
        self.assertEqual(sandbox_user[0][5], "/sandbox")

    def test_host_paths_invisible(self):
        host_root_entries = set(os.listdir("/root"))
        info = self.sandbox_json(
            "import os, json\n"
            "try:\n"
            "    root = os.listdir('/root')\n"
            "except OSError as e:\n"
            "    root = []\n"
            f"print(json.dumps({{'root': root, 'repo': os.path.exists({str(omcp_client.REPO_ROOT)!r}),\n"
            "  'work': os.path.exists('/work'), 'var_log': os.path.exists('/var/log/dpkg.log')}))\n")
        self.assertEqual(set(info["root"]) & host_root_entries, set(),
                         "host /root entries are visible")
        self.assertFalse(info["repo"], "the repository is visible in the sandbox")
        self.assertFalse(info["work"], "/work is visible in the sandbox")
        self.assertFalse(info["var_log"], "host /var/log is visible in the sandbox")

    def test_writes_outside_tmp_and_sandbox_fail(self):
        targets = ["/probe", "/usr/probe", "/usr/lib/probe", "/etc/probe", "/etc/passwd",
                   "/var/probe", "/proc/probe", "/dev/probe", "/proc/sys/kernel/hostname",
                   "/proc/sysrq-trigger", "/sys/fs/cgroup/probe"]
        info = self.sandbox_json(
            "import json\n"
            f"targets = {targets!r} + ['/tmp/probe', '/sandbox/probe']\n"
            "out = {}\n"
            "for path in targets:\n"
            "    try:\n"
            "        with open(path, 'w') as f:\n"
            "            f.write('x')\n"
            "        out[path] = 'written'\n"
            "    except OSError as e:\n"
            "        out[path] = e.errno\n"
            "print(json.dumps(out))\n")
        for path in targets:
            with self.subTest(path=path):
                self.assertNotEqual(info[path], "written", f"wrote {path}")
        self.assertEqual(info["/tmp/probe"], "written")
        self.assertEqual(info["/sandbox/probe"], "written")

    def test_kernel_interfaces_closed(self):
        info = self.sandbox_json(
            "import json\n"
            "out = {}\n"
            "for path in ('/proc/kcore', '/proc/kmsg', '/dev/mem', '/dev/kmsg',\n"
            "             '/sys/kernel/security', '/proc/1/environ', '/proc/1/mem'):\n"
            "    try:\n"
            "        with open(path, 'rb') as f:\n"
            "            f.read(1)\n"
            "        out[path] = 'read'\n"
            "    except OSError as e:\n"
            "        out[path] = e.errno\n"
            "print(json.dumps(out))\n")
        for path, outcome in info.items():
            with self.subTest(path=path):
                self.assertNotEqual(outcome, "read", f"read {path}")

    def test_mount_flags(self):
        mounts = self.sandbox_json(
            "import json\n"
            "out = {}\n"
            "for line in open('/proc/self/mountinfo'):\n"
            "    left, right = line.split(' - ')\n"
            "    fields = left.split()\n"
            "    out[fields[4]] = {'options': fields[5].split(','),\n"
            "                      'fstype': right.split()[0]}\n"
            "print(json.dumps(out))\n")
        for path in ("/", "/usr"):
            with self.subTest(mount=path):
                self.assertIn(path, mounts, f"mounts: {sorted(mounts)}")
                self.assertIn("ro", mounts[path]["options"], f"{path}: {mounts[path]!r}")
        for path in ("/sandbox", "/tmp"):
            with self.subTest(mount=path):
                self.assertIn(path, mounts, f"mounts: {sorted(mounts)}")
                self.assertEqual(mounts[path]["fstype"], "tmpfs")
                self.assertIn("rw", mounts[path]["options"])
                self.assertIn("nodev", mounts[path]["options"])
                self.assertIn("nosuid", mounts[path]["options"])
        self.assertEqual(mounts.get("/proc", {}).get("fstype"), "proc")

    def test_minimal_dev(self):
        info = self.sandbox_json(
            "import os, stat, json\n"
            "devices = {}\n"
            "for top, dirs, files in os.walk('/dev'):\n"
            "    for name in files:\n"
            "        path = os.path.join(top, name)\n"
            "        mode = os.lstat(path).st_mode\n"
            "        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):\n"
            "            devices[path] = 'char' if stat.S_ISCHR(mode) else 'block'\n"
            "out = {'devices': devices}\n"
            "fd = os.open('/dev/full', os.O_WRONLY)\n"
            "try:\n"
            "    os.write(fd, b'x' * 10)\n"
            "    out['full'] = 'written'\n"
            "except OSError as e:\n"
            "    out['full'] = e.errno\n"
            "os.close(fd)\n"
            "open('/dev/null', 'w').write('x')\n"
            "out['zero'] = open('/dev/zero', 'rb').read(8).hex()\n"
            "out['urandom'] = len(open('/dev/urandom', 'rb').read(16))\n"
            "out['random'] = len(open('/dev/random', 'rb').read(16))\n"
            "print(json.dumps(out))\n")
        expected = {f"/dev/{name}" for name in ("null", "zero", "full", "random", "urandom")}
        for path in expected:
            self.assertEqual(info["devices"].get(path), "char", f"{path} missing or not char")
        extra = set(info["devices"]) - expected
        self.assertEqual(extra, set(), "unexpected device nodes in /dev")
        self.assertEqual(info["full"], errno.ENOSPC)
        self.assertEqual(info["zero"], "00" * 8)
        self.assertEqual(info["urandom"], 16)
        self.assertEqual(info["random"], 16)

    def test_filesystem_sizes(self):
        sizes = self.sandbox_json(
            "import os, json\n"
            "print(json.dumps({p: os.statvfs(p).f_blocks * os.statvfs(p).f_frsize\n"
            "                  for p in ('/tmp', '/sandbox')}))\n")
        self.assertGreaterEqual(sizes["/tmp"], 95 * 10**6, f"sizes: {sizes}")
        self.assertLessEqual(sizes["/tmp"], 110 * 10**6, f"sizes: {sizes}")
        self.assertGreaterEqual(sizes["/sandbox"], 475 * 10**6, f"sizes: {sizes}")
        self.assertLessEqual(sizes["/sandbox"], 550 * 10**6, f"sizes: {sizes}")

    def test_filling_tmp_gives_enospc(self):
        server_sandbox = self.new_sandbox(self.server)
        host_before = os.statvfs("/")
        info = self.run_json(self.server, server_sandbox,
                             "import json, os\n"
                             "written = 0\n"
                             "chunk = b'x' * (1 << 20)\n"
                             "result = 'no error'\n"
                             "try:\n"
                             "    with open('/tmp/fill', 'wb', buffering=0) as f:\n"
                             "        while written < 400 * (1 << 20):\n"
                             "            written += f.write(chunk)\n"
                             "except OSError as e:\n"
                             "    result = e.errno\n"
                             "os.unlink('/tmp/fill')\n"
                             "print(json.dumps({'written': written, 'result': result}))\n",
                             timeout=120)
        host_after = os.statvfs("/")
        self.assertEqual(info["result"], errno.ENOSPC, f"filling /tmp: {info!r}")
        self.assertLessEqual(info["written"], 110 * 10**6, f"wrote {info['written']} bytes")
        self.assertGreaterEqual(info["written"], 90 * 10**6, f"wrote {info['written']} bytes")
        used = (host_before.f_bavail - host_after.f_bavail) * host_after.f_frsize
        self.assertLess(used, 50 * 10**6, f"the host disk lost {used} bytes")
        self.assertFalse(os.path.exists("/tmp/fill"), "the file reached the host /tmp")


class CrossSandbox(ServerTestCase):

    def setUp(self):
        self.server = self.start_server()
        self.first = self.new_sandbox(self.server)
        self.second = self.new_sandbox(self.server)

    def test_files_not_shared(self):
        token = uuid.uuid4().hex
        self.run_ok(self.server, self.first,
                    f"open('/sandbox/secret', 'w').write({token!r})\n"
                    f"open('/tmp/secret', 'w').write({token!r})\n")
        seen = self.run_json(self.server, self.second,
                             "import os, json\n"
                             "print(json.dumps([p for p in ('/sandbox/secret', '/tmp/secret')\n"
                             "                  if os.path.exists(p)]))\n")
        self.assertEqual(seen, [], "the second sandbox sees the first one's files")
        own = self.server.execute(self.first, "print(open('/sandbox/secret').read())")
        self.assertEqual(own.get("output"), token + "\n", "the first sandbox lost its file")

    def test_processes_not_visible(self):
        marker = omcp_client.unique_marker()
        code = SPAWN_MARKED_CHILD.format(marker=omcp_client.marker_literal(marker), seconds=60)
        request_id = self.server.start_tool_call("execute_python_code", {
            "sandbox_id": self.first, "code": code, "timeout": 90})
        self.wait_for_processes(marker)
        try:
            seen = self.run_json(self.server, self.second,
                                 "import os, json\n"
                                 f"marker = {omcp_client.marker_literal(marker)}\n"
                                 "hits = []\n"
                                 "for p in [d for d in os.listdir('/proc') if d.isdigit()]:\n"
                                 "    try:\n"
                                 "        if marker.encode() in open(f'/proc/{p}/cmdline', 'rb').read():\n"
                                 "            hits.append(int(p))\n"
                                 "    except OSError:\n"
                                 "        pass\n"
                                 "print(json.dumps(hits))\n")
            self.assertEqual(seen, [], "the second sandbox sees the first one's processes")
        finally:
            self.server.notify("notifications/cancelled", {"requestId": request_id})
            omcp_client.wait_for_no_processes(marker, 10)

    def test_sysv_ipc_not_shared(self):
        create = ("import ctypes, json\n"
                  "libc = ctypes.CDLL(None, use_errno=True)\n"
                  "IPC_CREAT = 0o1000\n"
                  "q = libc.msgget(0x51ab, IPC_CREAT | 0o600)\n"
                  "print(json.dumps({'id': q, 'errno': ctypes.get_errno()}))\n")
        created = self.run_json(self.server, self.first, create)
        self.assertGreaterEqual(created["id"], 0, f"msgget in the first sandbox: {created!r}")
        looked_up = self.run_json(self.server, self.second,
                                  "import ctypes, json\n"
                                  "libc = ctypes.CDLL(None, use_errno=True)\n"
                                  "q = libc.msgget(0x51ab, 0)\n"
                                  "print(json.dumps({'id': q, 'errno': ctypes.get_errno()}))\n")
        self.assertEqual(looked_up["id"], -1, "the second sandbox found the first one's queue")
        self.assertEqual(looked_up["errno"], errno.ENOENT)

    def test_namespaces_distinct(self):
        code = ("import os, json\n"
                "print(json.dumps({n: os.readlink('/proc/self/ns/' + n) for n in\n"
                "  ('mnt', 'pid', 'net', 'ipc', 'uts')}))\n")
        first = self.run_json(self.server, self.first, code)
        second = self.run_json(self.server, self.second, code)
        for name in first:
            with self.subTest(namespace=name):
                self.assertNotEqual(first[name], second[name],
                                    f"two sandboxes share a {name} namespace")


if __name__ == "__main__":
    omcp_client.main()
