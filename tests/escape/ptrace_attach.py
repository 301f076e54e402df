# escape: Attach to the supervisor and to a neighbour process with ptrace (ATTACH, SEIZE, TRACEME)
# expect: contained
# layer: seccomp, non-dumpable supervisor
import signal, time

PTRACE_TRACEME, PTRACE_PEEKDATA, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 0, 2, 16, 17, 0x4206
SYS_ptrace = 101

neighbour = os.fork()
if neighbour == 0:
    time.sleep(30)
    os._exit(0)

for pid, who in ((1, "the supervisor"), (neighbour, "a neighbour process")):
    for request, name in ((PTRACE_ATTACH, "PTRACE_ATTACH"), (PTRACE_SEIZE, "PTRACE_SEIZE")):
        result, error = must_deny(f"{name} of {who}", SYS_ptrace, request, pid, 0, 0)
        if result == 0:
            syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0)

# A child that requests tracing by its parent: the parent would control it.
child = os.fork()
if child == 0:
    result, _ = syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)
    os._exit(0 if result == 0 else 1)
_, status = os.waitpid(child, 0)
if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
    escaped("PTRACE_TRACEME succeeded")
os.kill(neighbour, signal.SIGKILL)
os.waitpid(neighbour, 0)
finish()
