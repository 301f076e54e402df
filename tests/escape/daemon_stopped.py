# escape: Leave stopped, signal-blocking and zombie-making children behind in separate sessions
# expect: contained
# layer: supervisor (SIGKILL ends stopped processes, and PID 1 reaps every child)
import signal, time

for kind in ("stopped", "zombie-parent", "sleeper"):
    if os.fork() == 0:
        os.setsid()
        if kind == "stopped":
            os.kill(os.getpid(), signal.SIGSTOP)
        elif kind == "zombie-parent":
            # Children that exit and are never reaped, under a parent that sleeps.
            for _ in range(5):
                if os.fork() == 0:
                    os._exit(0)
            time.sleep(600)
        else:
            signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
            time.sleep(600)
        os._exit(0)
time.sleep(0.5)
finish()
