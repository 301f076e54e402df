# escape: Write to sysfs (uevent helper, power state, module parameters, cgroup controls)
# expect: contained
# layer: mount namespace (no /sys), seccomp (no mount)
# The sandbox has no /sys. If one appears, every write puts the current
# value back, so that a broken sandbox changes nothing.
paths = ["/sys/kernel/uevent_helper", "/sys/power/state", "/sys/kernel/mm/transparent_hugepage/enabled",
         "/sys/module/printk/parameters/time", "/sys/fs/cgroup/cgroup.procs",
         "/sys/class/net/lo/mtu", "/sys/kernel/profiling"]
if os.path.isdir("/sys"):
    for top, dirs, files in os.walk("/sys"):
        paths += [os.path.join(top, name) for name in files]
        if len(paths) > 5000:
            break
for path in paths:
    try:
        value = open(path, "rb").read()
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
os.makedirs("/sandbox/sys", exist_ok=True)
for target in ("/sys", "/sandbox/sys"):
    must_deny(f"mount sysfs on {target}", 165, b"sysfs", target.encode(), b"sysfs", 0, 0)
finish()
