# escape: Create, change and remove files outside /sandbox and /tmp, including /etc/ld.so.preload
# expect: contained
# layer: read-only mounts (root, /usr, /dev, /proc/sys)
targets = ["/pwned", "/etc/ld.so.preload", "/etc/passwd", "/etc/hosts", "/usr/pwned",
           "/usr/lib/pwned.so", "/usr/local/bin/python3", "/bin/pwned", "/lib/pwned", "/dev/pwned",
           "/dev/null.d", "/proc/pwned", "/var/pwned", "/root/pwned", "/home/pwned"]
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("x")
        escaped(f"wrote {path}")
    except OSError:
        pass
for action, args in ((os.mkdir, ("/usr/pwned",)), (os.unlink, ("/etc/hosts",)),
                     (os.rename, ("/etc/hosts", "/etc/hosts.old")), (os.chmod, ("/usr/bin", 0o777)),
                     (os.chmod, ("/", 0o777)), (os.utime, ("/usr/bin/python3", (0, 0))),
                     (os.symlink, ("/sandbox", "/usr/pwned-link")), (os.mkfifo, ("/etc/pwned",)),
                     (os.chown, ("/sandbox", 0, 0)), (os.chown, ("/tmp", 0, 0)),
                     (os.rmdir, ("/dev",)), (os.unlink, ("/dev/null",))):
    must_fail(f"{action.__name__}{args}", action, *args)
if os.path.exists("/etc/ld.so.preload"):
    escaped("/etc/ld.so.preload exists")
finish()
