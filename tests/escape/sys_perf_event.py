# escape: Open a perf event (a software counter on itself, and a CPU-wide one)
# expect: contained
# layer: seccomp
SYS_perf_event_open = 298
PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE, PERF_COUNT_SW_TASK_CLOCK = 1, 0, 1


def attr(kind, config, exclude_kernel):
    buf = (ctypes.c_uint8 * 128)()
    ctypes.memmove(buf, ctypes.byref(ctypes.c_uint32(kind)), 4)
    ctypes.memmove(ctypes.byref(buf, 4), ctypes.byref(ctypes.c_uint32(128)), 4)
    ctypes.memmove(ctypes.byref(buf, 8), ctypes.byref(ctypes.c_uint64(config)), 8)
    # flags: disabled (bit 0), exclude_kernel (bit 5), exclude_hv (bit 6)
    flags = 1 | ((1 << 5) if exclude_kernel else 0) | (1 << 6)
    ctypes.memmove(ctypes.byref(buf, 40), ctypes.byref(ctypes.c_uint64(flags)), 8)
    return buf


must_deny("perf_event_open(task clock, self) fd", SYS_perf_event_open,
            attr(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, True), 0, -1, -1, 0)
must_deny("perf_event_open(cycles, CPU 0, all processes) fd", SYS_perf_event_open,
            attr(PERF_TYPE_HARDWARE, 0, False), -1, 0, -1, 0)
finish()
