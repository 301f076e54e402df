# escape: Leave a daemon behind: double fork, setsid, ignore SIGTERM and SIGHUP, close every stream
# expect: contained
# layer: supervisor (kills every process of the sandbox when the execution ends)
import signal, time

# The runner checks that the next execution sees no process but itself and
# PID 1, and that no process of the sandbox is left on the host.
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        while True:
            with open("/sandbox/daemon-heartbeat", "w") as f:
                f.write(str(time.time()))
            time.sleep(0.2)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.5)
finish()
