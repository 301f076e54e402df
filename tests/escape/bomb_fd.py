# escape: Descriptor bomb: open files, pipes and sockets until the kernel refuses, then raise the limit
# expect: contained
# layer: rlimit (RLIMIT_NOFILE 256)
import resource, socket

opened = []
try:
    while len(opened) < 100000:
        opened.extend(os.pipe())
        opened.append(os.open("/dev/null", os.O_RDONLY))
        opened.extend(s.detach() for s in socket.socketpair())
except OSError as error:
    print(f"failed after {len(opened)} descriptors: {errno.errorcode[error.errno]}")
if len(opened) > 256:
    escaped(f"held {len(opened)} descriptors, more than the limit of 256")
try:
    os.dup2(0, 100000)
    escaped("dup2 to descriptor 100000 succeeded")
except OSError:
    pass
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard + 1, hard + 1))
    escaped("raised RLIMIT_NOFILE above its hard limit")
except (OSError, ValueError):
    pass
for fd in opened:
    os.close(fd)
finish()
