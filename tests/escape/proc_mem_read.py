# escape: Read the memory of the supervisor and the server through /proc/<pid>/mem and maps
# expect: contained
# layer: PID namespace, non-dumpable supervisor
canary = {{CANARY}}.encode()
server_pid = {{SERVER_PID}}

for pid in (1, server_pid):
    for name in ("maps", "smaps", "pagemap", "stack", "syscall", "auxv", "mem"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read(4096)
        except OSError:
            continue
        if name == "mem" or data:
            escaped(f"read /proc/{pid}/{name} ({len(data)} bytes)")

# With the maps, read every readable region of PID 1 through mem.
try:
    maps = open("/proc/1/maps").read().splitlines()
except OSError:
    maps = []
try:
    mem = os.open("/proc/1/mem", os.O_RDONLY)
except OSError:
    mem = None
if mem is not None:
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        try:
            data = os.pread(mem, min(end - start, 1 << 24), start)
        except OSError:
            continue
        if canary in data:
            escaped("the server's canary is in the supervisor's memory")
    os.close(mem)
finish()
