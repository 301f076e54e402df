# escape: Bypass the x86_64 filter with 32-bit system calls (int 0x80) and x32 numbers, from machine code
# expect: contained
# layer: seccomp (architecture check kills the process)
import mmap, signal

# mov eax, NUMBER; int 0x80; ret
def int80_code(number):
    return b"\xb8" + number.to_bytes(4, "little") + b"\xcd\x80\xc3"


def run_in_child(action):
    """Run ACTION in a child; return its wait status."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(action())
        except BaseException:
            os._exit(99)
    return os.waitpid(pid, 0)[1]


def int80(number):
    memory = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    memory.write(int80_code(number))
    address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
    # A negative result is an errno from the 32-bit table: the call arrived.
    return 3 if result != -errno.EPERM else 0


# i386 numbers: getpid 20, mount 21, ptrace 26, unshare 310.
for name, number in (("getpid", 20), ("mount", 21), ("ptrace", 26), ("unshare", 310)):
    status = run_in_child(lambda: int80(number))
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
        escaped(f"the i386 system call {name} (int 0x80) ran past the filter")
    elif os.WIFSIGNALED(status):
        print(f"int 0x80 {name}: killed by {signal.Signals(os.WTERMSIG(status)).name}")
    else:
        print(f"int 0x80 {name}: exit {os.waitstatus_to_exitcode(status)}")

# x32 numbers are x86_64 numbers with bit 30 set.
for name, number in (("getpid", 39), ("mount", 165), ("unshare", 272)):
    def x32_call(number=number):
        result, error = syscall(0x40000000 | number, 0, 0, 0, 0, 0)
        return 3 if result >= 0 or error not in (errno.EPERM, errno.ENOSYS) else 0
    status = run_in_child(x32_call)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
        escaped(f"the x32 system call {name} ran past the filter")
finish()
