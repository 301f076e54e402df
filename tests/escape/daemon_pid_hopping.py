# escape: A daemon that keeps forking and letting the parent exit, so that its pid changes faster than a kill loop
# expect: contained
# layer: supervisor (kill(-1) repeated until no process is left)
import time

if os.fork() == 0:
    os.setsid()
    while True:
        try:
            if os.fork() != 0:
                os._exit(0)
        except OSError:
            time.sleep(0.001)
time.sleep(0.5)
finish()
