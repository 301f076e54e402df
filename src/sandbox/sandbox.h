/* Sandbox engine: long-lived jails built from Linux namespaces, seccomp,
 * cgroups and dropped capabilities, each with a supervisor as PID 1 that
 * runs one program at a time on request. Knows nothing of MCP, Python or
 * SQL: an execution is an argv, an environment and an input file. */
#ifndef OMCP_SANDBOX_H
#define OMCP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* argv[0] of every supervisor process; main() runs sandbox_supervisor_main
 * when argv[0] has this value. argv[1] is the sandbox id. */
#define SANDBOX_SUPERVISOR_ARGV0 "omcp-sandbox"

/* User and group id of code inside every sandbox. */
#define SANDBOX_UID 1000
#define SANDBOX_GID 1000

struct sandbox_limits
{
  uint64_t memory_bytes;     /* cgroup memory limit, swap included */
  uint32_t pids_max;         /* cgroup pids limit, supervisor included */
  uint32_t cpu_millicores;   /* cgroup CPU quota, 500 = half a CPU */
  uint64_t tmp_bytes;        /* size of the /tmp tmpfs */
  uint64_t work_bytes;       /* size of the /sandbox tmpfs */
  uint32_t nofile;           /* RLIMIT_NOFILE */
  uint64_t fsize_bytes;      /* RLIMIT_FSIZE */
};

/* A host file or directory made visible read-only at SANDBOX_PATH inside
 * sandboxes. The bind keeps the inode that HOST_PATH names when a sandbox
 * is created: a file replaced later (written elsewhere and renamed over
 * HOST_PATH) reaches only the sandboxes created after that. */
struct sandbox_bind
{
  const char *host_path;
  const char *sandbox_path;
  bool optional;              /* a HOST_PATH that cannot be opened is skipped */
  bool regular_file;          /* bind HOST_PATH only when it is a regular file */
};

struct sandbox_config
{
  const char *supervisor_exe; /* this program; NULL means /proc/self/exe */
  bool read_only_root;
  struct sandbox_limits limits;
  const struct sandbox_bind *extra_binds; /* may be NULL */
  size_t n_extra_binds;
};

/* Fill LIMITS with the defaults: 512 MiB, 50 processes, half a CPU, 100 MB
 * /tmp, 500 MB /sandbox, 256 descriptors, 512 MiB files. */
void sandbox_limits_default (struct sandbox_limits *limits);

typedef struct sandbox_engine sandbox_engine;
typedef struct sandbox sandbox;

/* Create the engine: check that the kernel offers every isolation layer,
 * choose the cgroup backend and start the thread that clones supervisors.
 * Fails with a message naming the missing feature. */
int sandbox_engine_new (const struct sandbox_config *config, sandbox_engine **out,
                        omcp_error *err) OMCP_WUR;

/* Kill every sandbox still alive and release the engine. */
void sandbox_engine_free (sandbox_engine *engine);

/* Name of the resource-limit backend: "cgroup v2", "cgroup v1" or
 * "rlimit" (degraded). */
const char *sandbox_engine_limits_backend (sandbox_engine *engine);

/* Build a sandbox and wait until its supervisor is ready. ID names it in
 * logs and in its cgroup path. */
int sandbox_create (sandbox_engine *engine, const char *id, sandbox **out, omcp_error *err) OMCP_WUR;

/* Kill every process of the sandbox, remove its cgroup and free it. The
 * caller must make sure no execution is running in it (sandbox_kill first
 * when one might be). REASON is logged. */
void sandbox_destroy (sandbox *sb, const char *reason);

/* Kill the supervisor and so every process in the sandbox. Safe to call
 * from any thread, more than once, while an execution runs: that
 * execution then returns with sandbox_destroyed set. */
void sandbox_kill (sandbox *sb, const char *reason);

/* False once the supervisor has exited or was killed. */
bool sandbox_is_alive (sandbox *sb);

const char *sandbox_id (sandbox *sb);

struct sandbox_exec_request
{
  const char *exec_id;            /* for logs */
  const char *const *argv;        /* absolute path first */
  const char *const *envp;        /* complete environment */
  const char *input;              /* readable as descriptor 3; may be NULL */
  size_t input_len;
  int64_t timeout_ms;             /* host-enforced deadline */
  size_t max_output_bytes;        /* stdout and stderr together */
  int cancel_fd;                  /* readable means cancel; -1 for none */
  /* Called from the executing thread every progress_interval_ms. */
  void (*on_progress) (void *userdata, int64_t elapsed_ms);
  void *progress_userdata;
  int64_t progress_interval_ms;
};

struct sandbox_exec_result
{
  int exit_code;            /* 128 + signal for a killed program */
  bool timed_out;           /* exit_code is 124 */
  bool output_truncated;    /* exit_code is 137 */
  bool cancelled;
  bool sandbox_destroyed;   /* the sandbox is gone and cannot be used again */
  bool memory_limit_hit;
  char *out;                /* stdout, NUL-terminated, raw bytes */
  size_t out_len;
  char *err;                /* stderr, NUL-terminated, raw bytes */
  size_t err_len;
  int64_t duration_ms;
  char message[256];        /* why the program was stopped, or "" */
};

/* Run one program in SB and wait for it, its output and every process it
 * started to end. Returns 0 with RESULT filled, or -1 when nothing ran:
 * errnum EBUSY means another execution is running in SB. */
int sandbox_exec (sandbox *sb, const struct sandbox_exec_request *request,
                  struct sandbox_exec_result *result, omcp_error *err) OMCP_WUR;

void sandbox_exec_result_clear (struct sandbox_exec_result *result);

/* Run one program on the host, WITHOUT ANY ISOLATION, in a fresh
 * directory under /tmp that is removed afterwards. A reaper process (a
 * child subreaper) runs it, so every process it starts, even in a session
 * of its own, stays below the reaper. The program's exit, the deadline,
 * the output cap and cancellation kill all of them. NOTE: should the
 * server itself die, the reaper dies with it and its descendants are left
 * to init. */
int sandbox_exec_local (const struct sandbox_exec_request *request,
                        struct sandbox_exec_result *result, omcp_error *err) OMCP_WUR;

/* A program that runs until sandbox_stop, on the caller's descriptors,
 * which become its descriptor 3, stdout and stderr (stdin is
 * /dev/null). The caller keeps its copies and enforces its own deadlines;
 * the engine neither reads nor writes them. */
struct sandbox_start_request
{
  const char *exec_id;            /* for logs */
  const char *const *argv;        /* absolute path first */
  const char *const *envp;        /* complete environment */
  int input_fd;                   /* descriptor 3 of the program */
  int output_fd;                  /* its stdout */
  int error_fd;                   /* its stderr; may equal output_fd */
};

/* Start a program in SB and return once the supervisor confirms that it
 * runs. SB counts as executing (sandbox_exec fails with EBUSY) until
 * sandbox_stop. */
int sandbox_start (sandbox *sb, const struct sandbox_start_request *request,
                   omcp_error *err) OMCP_WUR;

/* Kill the program started by sandbox_start, if it still runs, and every
 * process it started, and wait for the supervisor to confirm. Returns the
 * program's wait status, or -1 when the supervisor did not confirm in time
 * and the whole sandbox was killed instead. */
int sandbox_stop (sandbox *sb, const char *reason);

/* Entry point of the supervisor process (argv[0] SANDBOX_SUPERVISOR_ARGV0).
 * Runs inside the finished jail and never returns. */
int sandbox_supervisor_main (int argc, char **argv) __attribute__ ((noreturn));

/* One line of a host check for `omcp doctor`. */
struct sandbox_check
{
  char name[64];
  bool ok;
  bool required;
  char detail[256];
};

/* Probe each isolation feature on this host. Fills at most MAX checks and
 * returns how many. */
size_t sandbox_check_host (const struct sandbox_config *config, struct sandbox_check *checks,
                           size_t max);

#endif
