# escape: Reach a second sandbox of the same server: its processes, environment, files, abstract socket and SysV queue
# expect: contained
# layer: namespaces (PID, mount, network, IPC), distinct host uids
# neighbour: yes
import signal, socket

secret = {{NEIGHBOUR_SECRET}}
neighbour = {{NEIGHBOUR_HOST_PID}}
for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [str(neighbour), str(neighbour + 1)]:
    for name in ("environ", "cmdline"):
        try:
            if secret.encode() in open(f"/proc/{pid}/{name}", "rb").read():
                escaped(f"found the neighbour's secret in /proc/{pid}/{name}")
        except OSError:
            pass
for path in ("/sandbox/secret", "/tmp/secret", f"/proc/{neighbour}/root/sandbox/secret",
             f"/proc/{neighbour + 1}/root/sandbox/secret"):
    try:
        if secret in open(path).read():
            escaped(f"read the neighbour's secret through {path}")
    except OSError:
        pass
for pid in (neighbour, neighbour + 1, neighbour + 2):
    try:
        os.kill(pid, signal.SIGKILL)
        escaped(f"signalled host pid {pid} of the neighbour")
    except OSError:
        pass
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect("\0omcp-neighbour")
    escaped("connected to the neighbour's abstract socket")
except OSError:
    pass
sock.close()
queue = libc.msgget(0x5eed, 0)
if queue >= 0:
    escaped("found the neighbour's SysV message queue")
    libc.msgctl(queue, 0, None)  # IPC_RMID
finish()
