# escape: unshare every namespace type alone and together, to gain capabilities in a new user namespace
# expect: contained
# layer: seccomp
SYS_unshare = 272
FLAGS = {"CLONE_NEWNS": 0x20000, "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000,
         "CLONE_NEWIPC": 0x8000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
         "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x80}
for name, flag in FLAGS.items():
    must_deny(f"unshare({name})", SYS_unshare, flag)
must_deny("unshare(all namespaces)", SYS_unshare, sum(FLAGS.values()))
must_deny("unshare(CLONE_NEWUSER | CLONE_NEWNS)", SYS_unshare, 0x10000000 | 0x20000)
# The libc wrapper, as ordinary code would call it.
if libc.unshare(0x10000000) == 0:
    escaped("libc unshare(CLONE_NEWUSER) succeeded")
cap_eff = [l for l in open("/proc/self/status") if l.startswith("CapEff:")][0].split()[1]
if int(cap_eff, 16) != 0:
    escaped(f"the process has capabilities {cap_eff}")
finish()
