# escape: Set up an io_uring instance, a frequent source of kernel exploits and a way around syscall filters
# expect: contained
# layer: seccomp
SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register = 425, 426, 427
params = (ctypes.c_uint32 * 30)()  # struct io_uring_params, 120 bytes, all zero
must_deny("io_uring_setup(8 entries) fd", SYS_io_uring_setup, 8, params)
params = (ctypes.c_uint32 * 30)()
params[2] = 1 << 1  # IORING_SETUP_SQPOLL: a kernel thread polling for the sandbox
must_deny("io_uring_setup(SQPOLL) fd", SYS_io_uring_setup, 8, params)
must_deny("io_uring_enter", SYS_io_uring_enter, 3, 1, 0, 0, 0, 0)
must_deny("io_uring_register", SYS_io_uring_register, 3, 0, 0, 0)
if os.path.exists("/proc/sys/kernel/io_uring_disabled"):
    print("io_uring_disabled =", open("/proc/sys/kernel/io_uring_disabled").read().strip())
finish()
