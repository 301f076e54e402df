# escape: Change the own security context and maps through /proc/self: attr, uid_map, setgroups
# expect: contained
# layer: user namespace, capabilities
for name, data in (("attr/current", b"unconfined"), ("attr/exec", b"unconfined"),
                   ("attr/fscreate", b"system_u:object_r:etc_t:s0"), ("attr/keycreate", b"x"),
                   ("attr/sockcreate", b"x"), ("attr/apparmor/current", b"changeprofile unconfined"),
                   ("attr/apparmor/exec", b"exec unconfined"), ("uid_map", b"0 0 4294967295"),
                   ("gid_map", b"0 0 4294967295"), ("setgroups", b"allow"),
                   ("loginuid", b"0"), ("sessionid", b"1")):
    try:
        with open(f"/proc/self/{name}", "wb", buffering=0) as f:
            f.write(data)
    except OSError:
        continue
    escaped(f"wrote /proc/self/{name}")
if os.getuid() != 1000 or os.geteuid() != 1000:
    escaped(f"uid changed to {os.getuid()}/{os.geteuid()}")
finish()
