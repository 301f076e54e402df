# escape: Fork until the kernel refuses, counting how many processes one execution can hold
# expect: contained
# layer: cgroup (pids)
import signal, time

children = []
while len(children) < 1000:
    try:
        pid = os.fork()
    except OSError as error:
        print(f"fork failed after {len(children)} children: {errno.errorcode[error.errno]}")
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    children.append(pid)
if len(children) >= 50:
    escaped(f"forked {len(children)} processes, more than the pids limit of 50")
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
finish()
