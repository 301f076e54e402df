# escape: clone3 with new user, PID, mount and network namespaces (flags in memory, out of the filter's reach)
# expect: contained
# layer: seccomp (clone3 returns ENOSYS)
import signal

SYS_clone3 = 435


class clone_args(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls",
        "set_tid", "set_tid_size", "cgroup")]


for flags, name in ((0x10000000, "CLONE_NEWUSER"), (0x20000000 | 0x10000000, "NEWUSER|NEWPID"),
                    (0x20000 | 0x10000000, "NEWUSER|NEWNS"), (0x40000000 | 0x10000000, "NEWUSER|NEWNET"),
                    (0, "no flags")):
    args = clone_args(flags=flags, exit_signal=signal.SIGCHLD)
    pid, error = syscall(SYS_clone3, ctypes.byref(args), ctypes.sizeof(args))
    if pid == 0:
        os._exit(42)
    if pid > 0:
        os.waitpid(pid, 0)
        escaped(f"clone3({name}) created a child")
    elif error != errno.ENOSYS:
        escaped(f"clone3({name}) failed with {errno.errorcode.get(error)}, not ENOSYS")
finish()
