# escape: Thread bomb: start threads until the kernel refuses
# expect: contained
# layer: cgroup (pids)
import threading

stop = threading.Event()
threads = []
try:
    while len(threads) < 1000:
        thread = threading.Thread(target=stop.wait, daemon=True)
        thread.start()
        threads.append(thread)
except RuntimeError as error:
    print(f"thread creation failed after {len(threads)} threads: {error}")
if len(threads) >= 50:
    escaped(f"started {len(threads)} threads, more than the pids limit of 50")
stop.set()
for thread in threads:
    thread.join()
finish()
