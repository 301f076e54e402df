# escape: Kill the server and the sandbox's supervisor by their host pids
# expect: contained
# layer: PID namespace
import signal

for pid, who in (({{SERVER_PID}}, "the server"), ({{SUPERVISOR_HOST_PID}}, "the supervisor's host pid")):
    for sig in (signal.SIGKILL, signal.SIGSTOP, 0):
        try:
            os.kill(pid, sig)
        except OSError:
            continue
        escaped(f"kill({pid}, {sig}) of {who} was delivered")
    try:
        os.setpgid(0, pid)
        escaped(f"joined the process group of {who}")
    except OSError:
        pass
finish()
