# escape: setns into the supervisor's and parent namespaces through /proc/*/ns and nsfs ioctls
# expect: contained
# layer: seccomp, non-dumpable supervisor, user namespace
import fcntl

SYS_setns = 308
NS_GET_USERNS, NS_GET_PARENT = 0xB701, 0xB702
names = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time", "pid_for_children",
         "time_for_children")
for pid in ("1", "self"):
    for name in names:
        try:
            fd = os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY)
        except OSError:
            if pid == "1":
                continue
            raise
        if pid == "1":
            escaped(f"opened /proc/1/ns/{name}")
        must_deny(f"setns /proc/{pid}/ns/{name}", SYS_setns, fd, 0)
        # The parent namespace is the host's: entering it would be an escape.
        for request, what in ((NS_GET_PARENT, "parent"), (NS_GET_USERNS, "owning user namespace")):
            try:
                other = fcntl.ioctl(fd, request)
            except OSError:
                continue
            must_deny(f"setns into the {what} of {name}", SYS_setns, other, 0)
            os.close(other)
        os.close(fd)
pidfd, _ = syscall(434, 1, 0)  # pidfd_open(1)
if pidfd >= 0:
    must_deny("setns with a pidfd of the supervisor", SYS_setns, pidfd, 0x7E020000)
    os.close(pidfd)
finish()
