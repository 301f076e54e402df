# escape: Trigger magic SysRq through /proc/sysrq-trigger and change kernel.sysrq
# expect: contained
# layer: read-only /proc/sys, capabilities
# 'h' only prints the SysRq help to the kernel log, so even a broken sandbox
# does no harm. Whether the write is accepted is what counts.
for path, data in (("/proc/sysrq-trigger", b"h"), ("/proc/sys/kernel/sysrq", None)):
    try:
        if data is None:
            data = open(path, "rb").read()
        with open(path, "wb", buffering=0) as f:
            f.write(data)
        escaped(f"wrote {path}")
    except OSError:
        pass
finish()
