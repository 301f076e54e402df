/* Python executions: the interpreter's command line and environment. */
#include <string.h>

#include "bootstrap.h"
#include "omop.h"
#include "tools.h"

/* How often a running execution reports progress. */
#define PROGRESS_INTERVAL_MS 2000

/* Most entries tools_settings.extra_env may hold. */
#define PYTHON_MAX_EXTRA_ENV 16

/* Nothing of the server's environment: only what Python and the usual
 * libraries need. OpenBLAS and OpenMP get one thread because the sandbox
 * has half a CPU and a process limit. Matplotlib draws without a display
 * and keeps its cache in /tmp rather than the user's /sandbox. Host
 * executions get the same, so the database password and other settings
 * of the server never reach the code. */
static const char *const base_env[] = {
  "HOME=/sandbox",
  "PATH=/usr/local/bin:/usr/bin:/bin",
  "LANG=C.UTF-8",
  "LC_ALL=C.UTF-8",
  "TMPDIR=/tmp",
  "USER=sandboxuser",
  "LOGNAME=sandboxuser",
  "MPLBACKEND=Agg",
  "MPLCONFIGDIR=/tmp/matplotlib",
  "OPENBLAS_NUM_THREADS=1",
  "OMP_NUM_THREADS=1",
};

/* Room for the base, the extra entries and the NULL. */
typedef const char *python_envp[N_ELEMENTS (base_env) + PYTHON_MAX_EXTRA_ENV + 1];

/* Fill ENVP with the base environment followed by EXTRA (may be NULL). */
static int
fill_env (python_envp envp, const char *const *extra, omcp_error *err)
{
  size_t n = 0, i;

  for (i = 0; i < N_ELEMENTS (base_env); i++)
    envp[n++] = base_env[i];
  for (i = 0; extra && extra[i]; i++)
    {
      if (i >= PYTHON_MAX_EXTRA_ENV)
        return omcp_error_set (err, E2BIG, "more than %d extra environment variables",
                               PYTHON_MAX_EXTRA_ENV);
      envp[n++] = extra[i];
    }
  envp[n] = NULL;
  return 0;
}

static void
fill_request (struct sandbox_exec_request *request, const char **argv, const char **envp,
              const struct tools_settings *settings, const char *code, size_t code_len,
              int64_t timeout_ms, int cancel_fd,
              void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
              const char *exec_id)
{
  /* -I: ignore PYTHON* variables and the user site directory, and do not
   * put the current directory on sys.path. The bootstrap reads the code
   * from descriptor 3, adds /sandbox/packages to sys.path and makes the
   * source in the next argument importable as the omop module. */
  argv[0] = settings->python;
  argv[1] = "-I";
  argv[2] = "-c";
  argv[3] = python_bootstrap_source;
  argv[4] = python_omop_source;
  argv[5] = NULL;
  *request = (struct sandbox_exec_request) {
    .exec_id = exec_id,
    .argv = argv,
    .envp = envp,
    .input = code,
    .input_len = code_len,
    .timeout_ms = timeout_ms,
    .max_output_bytes = settings->max_output_bytes,
    .cancel_fd = cancel_fd,
    .on_progress = on_progress,
    .progress_userdata = userdata,
    .progress_interval_ms = PROGRESS_INTERVAL_MS,
  };
}

int
python_execute (sandbox *sb, const struct tools_settings *settings, const char *code,
                size_t code_len, int64_t timeout_ms, int cancel_fd,
                void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
                const char *exec_id, struct sandbox_exec_result *result, omcp_error *err)
{
  struct sandbox_exec_request request;
  const char *argv[6];
  python_envp envp;

  /* Built per call, so the OMOP_DB_* variables reach this execution only
   * and never the supervisor or another sandbox. */
  if (fill_env (envp, settings->extra_env, err) < 0)
    return -1;
  fill_request (&request, argv, envp, settings, code, code_len, timeout_ms, cancel_fd,
                on_progress, userdata, exec_id);
  return sandbox_exec (sb, &request, result, err);
}

int
python_execute_local (const struct tools_settings *settings, const char *code, size_t code_len,
                      int64_t timeout_ms, int cancel_fd,
                      void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
                      const char *exec_id, struct sandbox_exec_result *result, omcp_error *err)
{
  struct sandbox_exec_request request;
  const char *argv[6];
  python_envp envp;

  /* No OMOP_DB_* variables: the CDM paths they name exist only inside
   * sandboxes. NOTE: the bootstrap also puts /sandbox/packages on sys.path
   * here, which on the host only matters if that directory exists. */
  if (fill_env (envp, NULL, err) < 0)
    return -1;
  fill_request (&request, argv, envp, settings, code, code_len, timeout_ms, cancel_fd,
                on_progress, userdata, exec_id);
  return sandbox_exec_local (&request, result, err);
}
