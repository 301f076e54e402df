# escape: Raise the sandbox's own cgroup limits or move out of its cgroup
# expect: contained
# layer: cgroup namespace, mount namespace (no cgroupfs), seccomp (no mount)
before = open("/proc/self/cgroup").read()
candidates = []
for line in before.splitlines():
    _, controllers, path = line.split(":", 2)
    for controller in controllers.split(",") or ["unified"]:
        for root in (f"/sys/fs/cgroup/{controller}", "/sys/fs/cgroup"):
            for directory in (root + path, root):
                for name in ("pids.max", "memory.limit_in_bytes", "memory.max",
                             "memory.memsw.limit_in_bytes", "cpu.cfs_quota_us", "cpu.max",
                             "cgroup.procs", "tasks", "release_agent", "notify_on_release"):
                    candidates.append(os.path.join(directory, name))
for path in candidates:
    value = b"max" if path.endswith(("pids.max", "memory.max", "cpu.max")) else b"-1"
    if path.endswith(("cgroup.procs", "tasks")):
        value = str(os.getpid()).encode()
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        continue
    try:
        os.write(fd, value)
        escaped(f"wrote {path}")
    except OSError:
        pass
    finally:
        os.close(fd)
os.makedirs("/sandbox/cg", exist_ok=True)
for fstype, options in ((b"cgroup", b"pids"), (b"cgroup", b"memory"), (b"cgroup2", None)):
    must_deny(f"mount {fstype.decode()} {options}", 165, fstype, b"/sandbox/cg", fstype, 0,
                options or 0)
must_deny("unshare(CLONE_NEWCGROUP)", 272, 0x02000000)
if open("/proc/self/cgroup").read() != before:
    escaped("the process moved to another cgroup")
finish()
