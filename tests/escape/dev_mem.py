# escape: Open physical and kernel memory: /dev/mem, /dev/kmem, /dev/port, /proc/kcore, also through mknod
# expect: contained
# layer: minimal read-only /dev, nodev mounts, capabilities (no CAP_MKNOD)
import stat

# Open read-only and read nothing: opening is the breach, and reading I/O
# ports could disturb a host if the sandbox were broken.
paths = ["/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore", "/dev/kmsg", "/proc/kmsg",
         "/dev/mem0", "/dev/cpu/0/msr"]
for path in paths:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        continue
    os.close(fd)
    escaped(f"opened {path}")
for directory in ("/sandbox", "/tmp"):
    for name, major, minor in (("mem", 1, 1), ("kmem", 1, 2), ("port", 1, 4), ("kmsg", 1, 11)):
        path = f"{directory}/{name}"
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(major, minor))
        except OSError:
            continue
        escaped(f"created the device node {path}")
        try:
            fd = os.open(path, os.O_RDONLY)
            os.close(fd)
            escaped(f"opened the device node {path}")
        except OSError:
            pass
finish()
