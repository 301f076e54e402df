# escape: Use the kernel keyring: read the session keyring, add and request keys
# expect: contained
# layer: seccomp
SYS_add_key, SYS_request_key, SYS_keyctl = 248, 249, 250
KEYCTL_GET_KEYRING_ID, KEYCTL_DESCRIBE, KEYCTL_JOIN_SESSION_KEYRING = 0, 6, 1
KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING = -2, -3, -4
must_deny("keyctl(GET_KEYRING_ID, session)", SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)
must_deny("keyctl(GET_KEYRING_ID, user)", SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0)
must_deny("keyctl(JOIN_SESSION_KEYRING)", SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0)
# A process keyring key disappears with the process, so a success is harmless.
must_deny("add_key(user)", SYS_add_key, b"user", b"omcp-escape", b"x", 1, KEY_SPEC_PROCESS_KEYRING)
must_deny("request_key(user)", SYS_request_key, b"user", b"omcp-escape", 0, KEY_SPEC_PROCESS_KEYRING)
for path in ("/proc/keys", "/proc/key-users"):
    try:
        data = open(path).read()
    except OSError:
        continue
    print(f"{path}: {len(data.splitlines())} lines")
finish()
