# escape: Fill /sandbox and /tmp (tmpfs, so RAM) with real data
# expect: contained or killed or destroyed
# layer: tmpfs size limits, rlimit (RLIMIT_FSIZE), cgroup (memory)
# timeout: 60
chunk = b"x" * (4 << 20)
total = 0
for directory in ("/tmp", "/sandbox"):
    index = 0
    while True:
        try:
            with open(f"{directory}/fill{index}", "wb", buffering=0) as f:
                for _ in range(64):
                    total += f.write(chunk)
        except OSError as error:
            print(f"{directory}: {errno.errorcode[error.errno]} after {total >> 20} MiB in all")
            break
        index += 1
if total > (600 << 20):
    escaped(f"wrote {total >> 20} MiB into /tmp and /sandbox")
finish()
