# escape: kill(-1, SIGSTOP), then stop itself, so that no process of the execution ever ends
# expect: timeout
# layer: supervisor, host-enforced deadline
# timeout: 3
import signal, time

for _ in range(3):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
os.kill(-1, signal.SIGSTOP)
os.kill(os.getpid(), signal.SIGSTOP)
