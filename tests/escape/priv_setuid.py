# escape: Become root: setuid(0), setresuid, setgroups, capset with every capability, ambient raise
# expect: contained
# layer: user namespace (only uid 1000 mapped), capabilities dropped, no_new_privs
import resource

SYS_capset, SYS_prctl = 126, 157
for what, action, args in (("setuid(0)", os.setuid, (0,)), ("setgid(0)", os.setgid, (0,)),
                           ("setresuid(0, 0, 0)", os.setresuid, (0, 0, 0)),
                           ("setresgid(0, 0, 0)", os.setresgid, (0, 0, 0)),
                           ("setgroups([0])", os.setgroups, ([0],)),
                           ("seteuid(0)", os.seteuid, (0,)), ("setreuid(65534, 65534)", os.setreuid, (65534, 65534))):
    must_fail(what, action, *args)


class cap_header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class cap_data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


header = cap_header(0x20080522, 0)
data = (cap_data * 2)(cap_data(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), cap_data(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
must_deny("capset(all capabilities)", SYS_capset, ctypes.byref(header), data)
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_SET_NO_NEW_PRIVS, PR_SET_KEEPCAPS = 47, 2, 38, 8
for cap in (0, 12, 21):  # CAP_CHOWN, CAP_NET_ADMIN, CAP_SYS_ADMIN
    result, _ = syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0)
    if result == 0:
        escaped(f"raised ambient capability {cap}")
result, _ = syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0)
if result == 0:
    escaped("cleared no_new_privs")
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
    escaped("raised RLIMIT_NOFILE above its hard limit")
except (OSError, ValueError):
    pass
status = dict(line.split(":\t", 1) for line in open("/proc/self/status") if ":\t" in line)
for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
    if int(status[field], 16) != 0:
        escaped(f"{field} is {status[field].strip()}")
if status["NoNewPrivs"].strip() != "1":
    escaped("NoNewPrivs is not 1")
if status["Uid"].split() != ["1000"] * 4 or status["Gid"].split() != ["1000"] * 4:
    escaped(f"identity changed: Uid {status['Uid'].strip()} Gid {status['Gid'].strip()}")
finish()
