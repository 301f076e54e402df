# escape: kill(-1, SIGKILL): kill every process the sandbox may signal, the supervisor included
# expect: contained
# layer: PID namespace (init ignores signals without a handler)
import signal, time

children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children.append(pid)
# Linux skips the caller and PID 1; the children must die, the supervisor not.
os.kill(-1, signal.SIGKILL)
for pid in children:
    _, status = os.waitpid(pid, 0)
    if not os.WIFSIGNALED(status):
        print(f"child {pid} was not killed: status {status}")
state = [l for l in open("/proc/1/status") if l.startswith("State:")][0].split()[1]
if state not in ("S", "R"):
    escaped(f"the supervisor is in state {state}")
finish()
