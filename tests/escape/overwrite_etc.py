# escape: Replace the sandbox's /etc files (passwd, nsswitch, ld.so.cache) or mount over /etc
# expect: contained
# layer: read-only root, seccomp (no mount)
for path in ("/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/hosts",
             "/etc/python3.11/sitecustomize.py", "/etc/alternatives/python3"):
    try:
        fd = os.open(path, os.O_WRONLY)
        os.close(fd)
        escaped(f"opened {path} for writing")
    except OSError:
        pass
    must_fail(f"unlink {path}", os.unlink, path)
os.makedirs("/sandbox/etc", exist_ok=True)
open("/sandbox/etc/passwd", "w").write("root::0:0::/:/bin/sh\n")
MS_BIND = 4096
must_deny("bind mount over /etc", 165, b"/sandbox/etc", b"/etc", 0, MS_BIND, 0)
must_deny("bind mount over /etc/passwd", 165, b"/sandbox/etc/passwd", b"/etc/passwd", 0, MS_BIND, 0)
if "root::0" in open("/etc/passwd").read():
    escaped("/etc/passwd was replaced")
finish()
