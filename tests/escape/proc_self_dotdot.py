# escape: Reach the supervisor's and the server's /proc entries through /proc/self/.. and task paths
# expect: contained
# layer: PID namespace, non-dumpable supervisor
canary = {{CANARY}}.encode()
server_pid = {{SERVER_PID}}
paths = [
    "/proc/self/../1/environ",
    "/proc/thread-self/../../1/environ",
    "/proc/self/task/../../1/environ",
    f"/proc/self/../{server_pid}/environ",
    "/proc/self/root/proc/1/environ",
    "/proc/self/cwd/../proc/1/environ",
    "/proc/1/task/1/environ",
    "/proc/1/root/proc/1/environ",
    "/proc/1/cwd/../proc/1/environ",
]
for path in paths:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        continue
    escaped(f"read {path}" + (" with the server's canary" if canary in data else ""))
for path in ("/proc/1/root", "/proc/1/cwd", "/proc/1/exe"):
    try:
        escaped(f"{path} is readable: {os.readlink(path)!r}")
    except OSError:
        pass
for path in ("/proc/1/fd", "/proc/1/map_files"):
    try:
        escaped(f"{path} is listable: {os.listdir(path)!r}")
    except OSError:
        pass
finish()
