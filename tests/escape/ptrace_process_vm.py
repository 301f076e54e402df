# escape: Read and write other processes' memory with process_vm_readv/writev, pidfd_getfd and kcmp
# expect: contained
# layer: seccomp, non-dumpable supervisor
import signal, time

SYS_process_vm_readv, SYS_process_vm_writev = 310, 311
SYS_pidfd_open, SYS_pidfd_getfd, SYS_kcmp = 434, 438, 312


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


secret = ctypes.create_string_buffer(b"neighbour-secret", 64)
neighbour = os.fork()
if neighbour == 0:
    time.sleep(30)
    os._exit(0)

local_buffer = ctypes.create_string_buffer(64)
local = iovec(ctypes.cast(local_buffer, ctypes.c_void_p), 64)
remote = iovec(ctypes.cast(secret, ctypes.c_void_p), 16)
for pid, who in ((neighbour, "a neighbour process"), (1, "the supervisor")):
    must_deny(f"process_vm_readv of {who}", SYS_process_vm_readv, pid,
                ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    must_deny(f"process_vm_writev of {who}", SYS_process_vm_writev, pid,
                ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
if local_buffer.value == b"neighbour-secret":
    escaped("read the neighbour's memory")

# pidfd_getfd would copy the supervisor's control socket (descriptor 3).
pidfd, error = syscall(SYS_pidfd_open, 1, 0)
if pidfd >= 0:
    for target in range(0, 8):
        must_deny(f"pidfd_getfd of the supervisor's descriptor {target}", SYS_pidfd_getfd,
                    pidfd, target, 0)
    os.close(pidfd)
must_deny("kcmp with the supervisor", SYS_kcmp, os.getpid(), 1, 0, 0, 0)

# Calls that act on another process's memory and check ptrace access,
# which the non-dumpable supervisor fails (EPERM or EACCES).
SYS_migrate_pages, SYS_move_pages, SYS_process_madvise = 256, 279, 440
nodes = ctypes.c_ulong(1)
must_deny("migrate_pages of the supervisor", SYS_migrate_pages, 1, 64, ctypes.byref(nodes),
            ctypes.byref(nodes), allowed=(errno.EPERM, errno.EINVAL))
page = ctypes.c_void_p(0x400000)
status = ctypes.c_int()
must_deny("move_pages of the supervisor", SYS_move_pages, 1, 1, ctypes.byref(page), 0,
            ctypes.byref(status), 0)
pidfd, _ = syscall(SYS_pidfd_open, 1, 0)
if pidfd >= 0:
    MADV_PAGEOUT = 21
    must_deny("process_madvise of the supervisor", SYS_process_madvise, pidfd,
                ctypes.byref(local), 1, MADV_PAGEOUT, 0, allowed=(errno.EPERM, errno.EACCES))
    os.close(pidfd)
os.kill(neighbour, signal.SIGKILL)
os.waitpid(neighbour, 0)
finish()
