/* Declarations shared by the files of the sandbox engine. */
#ifndef OMCP_SANDBOX_INTERNAL_H
#define OMCP_SANDBOX_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "sandbox.h"

/* Messages on the SOCK_SEQPACKET socket between the server and a
 * supervisor. Every message starts with this header. */
enum supervisor_message_type
{
  SUPERVISOR_READY = 1,   /* supervisor -> server: jail finished, filter loaded */
  SUPERVISOR_EXEC,        /* server -> supervisor: run a program; 3 descriptors attached */
  SUPERVISOR_STARTED,     /* supervisor -> server: value = pid inside the sandbox */
  SUPERVISOR_EXITED,      /* supervisor -> server: value = wait status; all processes gone */
  SUPERVISOR_FAILED,      /* supervisor -> server: value = errno of a failed fork */
  SUPERVISOR_KILL,        /* server -> supervisor: kill the running program and its processes */
};

struct supervisor_message
{
  uint32_t type;
  int32_t value;
  uint32_t argc;          /* SUPERVISOR_EXEC: strings that follow: argv then envp */
  uint32_t envc;
};

/* Largest SUPERVISOR_EXEC message, header and strings. */
#define SUPERVISOR_MAX_MESSAGE (256 * 1024)

/* Descriptor of the control socket inside the supervisor. */
#define SUPERVISOR_CONTROL_FD 3

/* 1 when AddressSanitizer instruments this build (`make test-asan`). Its
 * shadow memory, terabytes of reserved private address space, counts
 * against RLIMIT_DATA, so an instrumented supervisor cannot start under the
 * memory rlimit of the no-cgroup fallback. Such a build hands the limit to
 * the supervisor in argv[2] instead, and the supervisor applies it to each
 * program it starts, just before execve. Other builds never do this. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_ADDRESS_SANITIZER
#define SANDBOX_ADDRESS_SANITIZER 0
#endif

/* Sandboxes of one privileged server that can exist at once, each with its
 * own host uid. */
#define SANDBOX_UID_SLOTS 1024

/* Resource-limit backend: cgroup v2, cgroup v1, or rlimits only. */
struct cgroup_ops
{
  const char *name;
  /* Create the cgroup of sandbox ID with LIMITS. */
  int (*create) (sandbox_engine *engine, const char *id, char **handle, omcp_error *err);
  /* Move PID into it. */
  int (*enter) (sandbox_engine *engine, const char *handle, pid_t pid, omcp_error *err);
  /* How many times the kernel's OOM killer fired in it. */
  long (*oom_kills) (sandbox_engine *engine, const char *handle);
  /* Remove it; its processes must be gone. */
  void (*destroy) (sandbox_engine *engine, const char *handle);
};

struct sandbox_engine
{
  struct sandbox_config config;
  struct sandbox_bind *binds;        /* copy of config.extra_binds */
  char *exe_path;
  int exe_fd;                        /* O_PATH descriptor of exe_path */
  int cap_last_cap;
  bool privileged;                   /* running as root: one host uid per sandbox */
  uid_t host_uid;                    /* unprivileged: the uid sandboxes map to */
  gid_t host_gid;
  uint64_t uid_slots[SANDBOX_UID_SLOTS / 64]; /* privileged: host uids in use */

  const struct cgroup_ops *cgroup;
  char *cgroup_v1_paths[3];          /* memory, pids, cpu: this server's parent cgroups */
  char *cgroup_v2_path;              /* this server's parent cgroup */

  /* Supervisors are cloned by one long-lived thread, because the kernel
   * sends PR_SET_PDEATHSIG when the creating thread exits, not the process. */
  pthread_t spawner;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct spawn_job *job;
  bool stopping;
};

struct sandbox
{
  sandbox_engine *engine;
  char id[64];
  pid_t pid;                  /* supervisor, host pid */
  int pidfd;
  int control_fd;
  char *cgroup;               /* backend handle, or NULL */
  uid_t host_uid;
  int uid_slot;               /* privileged: index in engine->uid_slots, else -1 */

  pthread_mutex_t lock;
  bool executing;
  bool alive;
  bool reaped;
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;
extern const struct cgroup_ops cgroup_none_ops;

/* Pick the cgroup backend that works here, logging a warning once when
 * only rlimits are left. */
int cgroup_select (sandbox_engine *engine, omcp_error *err);

/* Remove this server's parent cgroups. */
void cgroup_release_parent (sandbox_engine *engine);

/* Wait up to TIMEOUT_MS for the supervisor of SB to exit. Its pidfd turns
 * readable only once the kernel has emptied the PID namespace. Returns
 * false on timeout (engine.c). */
bool sandbox_wait_exit (sandbox *sb, int timeout_ms);

/* Clone the supervisor of SB (spawn.c). */
int spawn_supervisor (sandbox_engine *engine, sandbox *sb, omcp_error *err);
int spawner_start (sandbox_engine *engine, omcp_error *err);
void spawner_stop (sandbox_engine *engine);

/* Build the libseccomp filter and load it into the calling process
 * (seccomp.c). */
int seccomp_install (omcp_error *err);

/* Message helpers (protocol.c). supervisor_recv returns the payload
 * length, or -1 with errno EPIPE when the peer closed the socket and
 * EMSGSIZE for a message that did not fit (its descriptors are closed). */
int supervisor_send (int fd, const struct supervisor_message *msg, const void *payload,
                     size_t payload_len, const int *fds, size_t n_fds);
ssize_t supervisor_recv (int fd, struct supervisor_message *msg, void *payload,
                         size_t payload_size, int *fds, size_t max_fds, size_t *n_fds);

/* Shared by the executions in a sandbox (exec.c) and on the host
 * (local.c). */
#define EXIT_TIMEOUT 124
#define EXIT_KILLED 137

/* Reason an execution was stopped before it ended by itself. */
enum stop_reason
{
  STOP_NONE,
  STOP_TIMEOUT,
  STOP_OUTPUT,
  STOP_CANCEL,
};

extern const char *const exec_stop_names[];

/* A sealed memfd holding INPUT, rewound for reading. */
int exec_create_input (const char *input, size_t len, omcp_error *err);

/* Move the buffers of OUT and ERR into RESULT, NUL-terminated. */
void exec_finish_streams (struct output_stream *out, struct output_stream *err,
                          struct sandbox_exec_result *result);

/* Fill the exit code, the flags and the message of RESULT from a wait
 * STATUS and the reason the execution was stopped, if any. */
void exec_describe_end (const struct sandbox_exec_request *req, int status, enum stop_reason stop,
                        struct sandbox_exec_result *result);

#endif
