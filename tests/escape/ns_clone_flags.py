# escape: clone a child into new namespaces with each CLONE_NEW* flag (raw clone, fork-like)
# expect: contained
# layer: seccomp (clone flags checked)
import signal

SYS_clone = 56
FLAGS = {"CLONE_NEWNS": 0x20000, "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000,
         "CLONE_NEWIPC": 0x8000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
         "CLONE_NEWNET": 0x40000000}
for name, flag in FLAGS.items():
    # Without CLONE_VM and with no new stack, the child continues here like
    # after fork, and leaves at once.
    pid, error = syscall(SYS_clone, flag | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(42)
    if pid > 0:
        os.waitpid(pid, 0)
        escaped(f"clone({name}) created a child")
    elif error != errno.EPERM:
        escaped(f"clone({name}) failed with {errno.errorcode.get(error)}, not EPERM")
finish()
