# escape: Run the setuid-root and file-capability binaries of the host's /usr and watch their identity
# expect: contained
# layer: nosuid mounts, no_new_privs, user namespace
import stat, subprocess, time

binaries = []
for top in ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec"):
    for directory, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            special = st.st_mode & (stat.S_ISUID | stat.S_ISGID)
            try:
                caps = os.getxattr(path, "security.capability", follow_symlinks=False)
            except OSError:
                caps = None
            if stat.S_ISREG(st.st_mode) and (special or caps):
                binaries.append(path)
print(f"{len(binaries)} setuid, setgid or file-capability binaries: {binaries}")
# Each one gets a pipe on stdin that is never written, so binaries that
# wait for a password stay alive long enough to look at their identity.
observed = []
for path in binaries:
    try:
        child = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    except OSError:
        continue
    time.sleep(0.2)
    try:
        status = dict(l.split(":\t", 1) for l in open(f"/proc/{child.pid}/status") if ":\t" in l)
        uids, gids = status["Uid"].split(), status["Gid"].split()
        observed.append(path)
        if any(u != "1000" for u in uids) or any(g != "1000" for g in gids):
            escaped(f"{path} runs with Uid {uids} Gid {gids}")
        if int(status["CapEff"], 16) or int(status["CapPrm"], 16):
            escaped(f"{path} runs with capabilities {status['CapEff'].strip()}")
    except (OSError, KeyError):
        pass  # already exited
    child.kill()
    child.wait()
print(f"observed while running: {observed}")
if binaries and not observed:
    print("no setuid binary ran long enough to be observed; the attempt proves nothing")
    sys.exit(2)
# Make an own setuid copy: the owner is 1000, and nosuid must ignore it anyway.
try:
    import shutil
    shutil.copy("/usr/bin/id", "/sandbox/id")
    os.chmod("/sandbox/id", 0o4755)
    must_fail("setting security.capability on an own file", os.setxattr, "/sandbox/id",
              "security.capability", b"\x01\x00\x00\x02" + b"\xff" * 16)
except OSError:
    pass
finish()
