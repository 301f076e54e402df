/* Python executions: the interpreter's command line and environment. */
#include <string.h>

#include "bootstrap.h"
#include "omop.h"
#include "tools.h"

/* How often a running execution reports progress. */
#define PROGRESS_INTERVAL_MS 2000

/* Most entries tools_settings.extra_env may hold. */
#define PYTHON_MAX_EXTRA_ENV 16

int
python_execute (sandbox *sb, const struct tools_settings *settings, const char *code,
                size_t code_len, int64_t timeout_ms, int cancel_fd,
                void (*on_progress) (void *userdata, int64_t elapsed_ms), void *userdata,
                const char *exec_id, struct sandbox_exec_result *result, omcp_error *err)
{
  /* -I: ignore PYTHON* variables and the user site directory, and do not
   * put the current directory on sys.path. The bootstrap reads the code
   * from descriptor 3, adds /sandbox/packages to sys.path and makes the
   * source in the next argument importable as the omop module. */
  const char *argv[] = { settings->python, "-I", "-c", python_bootstrap_source,
                         python_omop_source, NULL };
  /* Nothing of the server's environment: only what Python and the usual
   * libraries need. OpenBLAS and OpenMP get one thread because the sandbox
   * has half a CPU and a process limit. Matplotlib draws without a display
   * and keeps its cache in /tmp rather than the user's /sandbox. */
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
  const char *envp[N_ELEMENTS (base_env) + PYTHON_MAX_EXTRA_ENV + 1];
  size_t n_env = 0, i;
  struct sandbox_exec_request request = {
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

  /* Built per call, so the OMOP_DB_* variables reach this execution only
   * and never the supervisor or another sandbox. */
  for (i = 0; i < N_ELEMENTS (base_env); i++)
    envp[n_env++] = base_env[i];
  for (i = 0; settings->extra_env && settings->extra_env[i]; i++)
    {
      if (i >= PYTHON_MAX_EXTRA_ENV)
        return omcp_error_set (err, E2BIG, "more than %d extra environment variables",
                               PYTHON_MAX_EXTRA_ENV);
      envp[n_env++] = settings->extra_env[i];
    }
  envp[n_env] = NULL;
  return sandbox_exec (sb, &request, result, err);
}
