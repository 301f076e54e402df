# escape: Find the server's environment through /proc/<pid>/environ and cmdline, guessing pids
# expect: contained
# layer: PID namespace, environment built by the server (nothing inherited)
canary = {{CANARY}}
server_pid = {{SERVER_PID}}

if any(canary in value for value in os.environ.values()):
    escaped("the canary is in the sandbox's own environment")

# Every pid the sandbox lists, the server's real pid, and a range of
# guesses, since the server may hide behind a pid that is not listed.
candidates = {int(p) for p in os.listdir("/proc") if p.isdigit()}
candidates |= {server_pid, server_pid - 1, server_pid + 1} | set(range(1, 2049))
readable = []
for pid in sorted(candidates):
    for name in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        readable.append(f"{pid}/{name}")
        if canary.encode() in data:
            escaped(f"/proc/{pid}/{name} contains the server's canary")
if any(p.startswith("1/environ") for p in readable):
    escaped("/proc/1/environ (the supervisor) is readable")
finish()
