# escape: Write kernel.core_pattern (a host-wide program run as root on a crash) and crash
# expect: contained
# layer: read-only /proc/sys, user namespace, rlimit
import resource, signal

# Write back the value that is there, so that even a broken sandbox
# changes nothing on the host; success of the write is what counts.
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/core_pipe_limit",
             "/proc/sys/kernel/core_uses_pid", "/proc/sys/fs/suid_dumpable"):
    try:
        value = open(path, "rb").read()
    except OSError:
        continue
    try:
        with open(path, "wb", buffering=0) as f:
            f.write(value)
        escaped(f"wrote {path}")
    except OSError:
        pass
try:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    escaped("raised RLIMIT_CORE above its hard limit of 0")
except (OSError, ValueError):
    pass

# A crashing child must not leave a core file anywhere it can see.
pid = os.fork()
if pid == 0:
    os.chdir("/sandbox")
    os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(0)
_, status = os.waitpid(pid, 0)
if os.WCOREDUMP(status):
    escaped("the crashing child dumped core")
for directory in ("/sandbox", "/tmp"):
    if any(name.startswith("core") for name in os.listdir(directory)):
        escaped(f"a core file appeared in {directory}")
finish()
