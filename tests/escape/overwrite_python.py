# escape: Overwrite the Python interpreter through its path, /proc/self/exe and /proc/1/exe
# expect: contained
# layer: read-only /usr bind, non-dumpable supervisor
import mmap, shutil

real = os.path.realpath(sys.executable)
for path in (sys.executable, real, "/proc/self/exe", "/proc/1/exe", "/usr/bin/python3"):
    for flags in (os.O_WRONLY, os.O_RDWR | os.O_APPEND, os.O_WRONLY | os.O_TRUNC):
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        os.close(fd)
        escaped(f"opened {path} for writing")
open("/sandbox/fake-python", "w").write("#!/bin/sh\necho pwned\n")
for path in (real, sys.executable):
    must_fail(f"rename over {path}", os.rename, "/sandbox/fake-python", path)
    must_fail(f"unlink {path}", os.unlink, path)
    must_fail(f"copy over {path}", shutil.copyfile, "/sandbox/fake-python", path)
# A shared writable mapping of the binary would write through to the file.
with open(real, "rb") as f:
    try:
        mapping = mmap.mmap(f.fileno(), 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        escaped("mapped the interpreter shared and writable")
        mapping.close()
    except OSError:
        pass
finish()
