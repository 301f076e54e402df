# escape: A sparse 100 GB file with truncate, fallocate and a write at a far offset
# expect: contained
# layer: rlimit (RLIMIT_FSIZE 512 MiB), tmpfs size limit
GB = 10**9
for directory in ("/sandbox", "/tmp"):
    path = f"{directory}/sparse"
    for action, args in ((os.truncate, (path, 100 * GB)), (os.posix_fallocate, None),
                         (os.pwrite, None)):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if action is os.truncate:
                os.truncate(path, 100 * GB)
            elif action is os.posix_fallocate:
                os.posix_fallocate(fd, 0, 100 * GB)
            else:
                os.pwrite(fd, b"x", 100 * GB)
        except OSError as error:
            print(f"{directory}: {action.__name__} failed with {errno.errorcode[error.errno]}")
        finally:
            os.close(fd)
        size = os.stat(path).st_size
        if size > (512 << 20):
            escaped(f"{path} reached {size} bytes with {action.__name__}")
        os.unlink(path)
finish()
