# escape: One real file as large as possible in /sandbox, written with a single growing write stream
# expect: contained or killed or destroyed
# layer: rlimit (RLIMIT_FSIZE 512 MiB), tmpfs size limit, cgroup (memory)
# timeout: 60
chunk = b"y" * (8 << 20)
written = 0
with open("/sandbox/big", "wb", buffering=0) as f:
    try:
        while written < (2 << 30):
            written += f.write(chunk)
    except OSError as error:
        print(f"stopped after {written >> 20} MiB: {errno.errorcode[error.errno]}")
if os.stat("/sandbox/big").st_size > (512 << 20):
    escaped(f"the file reached {os.stat('/sandbox/big').st_size} bytes")
os.unlink("/sandbox/big")
finish()
