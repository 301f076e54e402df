/* omcp: an MCP server that runs Python in sandboxes built from Linux
 * namespaces, seccomp and cgroups. This file holds the subcommands and the
 * wiring between the configuration, the engine and the MCP server. */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "dotenv.h"
#include "log.h"
#include "mcp.h"
#include "pool.h"
#include "sandbox.h"
#include "tools.h"

/* Largest file `omcp run` accepts. */
#define RUN_MAX_FILE_BYTES (16 * 1024 * 1024)

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage: omcp COMMAND [ARGS]\n"
           "\n"
           "Commands:\n"
           "  serve          serve MCP over standard input and output\n"
           "  doctor         check which isolation features work on this host\n"
           "  run FILE.py    run FILE.py in a fresh sandbox and print its output\n"
           "\n"
           "Options:\n"
           "  -h, --help     show this help\n"
           "  -V, --version  show the version\n"
           "\n"
           "Configuration (environment variables, also read from ./.env):\n");
  config_print_help (out);
}

/* Load .env and the configuration, and set the log level. */
static int
load_config (struct omcp_config *config)
{
  omcp_error err;

  if (dotenv_load (".env", &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  if (config_load (config, NULL, NULL, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  log_set_level (config->log_level);
  return 0;
}

static void
sandbox_config_from (const struct omcp_config *config, struct sandbox_config *sc)
{
  memset (sc, 0, sizeof *sc);
  sc->read_only_root = config->sandbox_read_only;
  sandbox_limits_default (&sc->limits);
}

static void
tools_settings_from (const struct omcp_config *config, struct tools_settings *ts)
{
  ts->python = config->sandbox_python;
  ts->default_timeout_ms = config->execution_default_timeout_s * 1000;
  ts->max_timeout_ms = config->execution_max_timeout_s * 1000;
  ts->max_output_bytes = (size_t) config->execution_max_output_bytes;
  ts->sandbox_timeout_ms = config->sandbox_timeout_s * 1000;
  ts->package_install_enabled = config->package_install_enabled;
  ts->allow_local_execution = config->allow_local_execution;
  ts->validator = NULL;
}

static int
check_python (const struct omcp_config *config)
{
  if (access (config->sandbox_python, X_OK) < 0)
    {
      fprintf (stderr, "omcp: SANDBOX_PYTHON %s is not executable: %s\n", config->sandbox_python,
               strerror (errno));
      return -1;
    }
  return 0;
}

static int
command_serve (void)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  sandbox_engine *engine = NULL;
  sandbox_pool *pool = NULL;
  mcp_server *server = NULL;
  sandbox *probe = NULL;
  omcp_error err;
  int ret;

  mcp_block_signals ();
  if (load_config (&config) < 0 || check_python (&config) < 0)
    return 2;
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);

  /* Refuse to serve rather than run code with a layer missing: build one
   * sandbox now, which exercises every layer but the Python run. */
  if (sandbox_engine_new (&sc, &engine, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      return 1;
    }
  if (sandbox_create (engine, "startup-check", &probe, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      sandbox_engine_free (engine);
      return 1;
    }
  sandbox_destroy (probe, "startup check done");

  /* The validator's helper runs in a sandbox of its own, outside the
   * pool: no agent can reach it or plant files on its module path. */
  if (config.code_validation
      && code_validator_new (engine, config.sandbox_python, &settings.validator, &err) < 0)
    {
      log_error ("main", "cannot start: %s", err.message);
      sandbox_engine_free (engine);
      return 1;
    }
  if (!config.code_validation)
    log_warning ("main", "CODE_VALIDATION=off: code runs in sandboxes without the static check");
  if (config.allow_local_execution)
    log_warning ("main", "OMCP_ALLOW_LOCAL_EXECUTION=true: run_python_code runs code on this host "
                         "without a sandbox");

  pool = sandbox_pool_new (engine, (unsigned) config.max_sandboxes, settings.sandbox_timeout_ms);
  server = mcp_server_new (&(struct mcp_server_info) {
    .name = "omcp",
    .version = OMCP_VERSION,
    .instructions = "Create a sandbox with create_sandbox, run Python in it with "
                    "execute_python_code, and remove it with remove_sandbox when done.",
  });
  tools_register_sandbox (server, pool, &settings);
  if (config.package_install_enabled)
    log_warning ("main", "PACKAGE_INSTALL_ENABLED=true, but this version cannot install "
                         "packages yet: install_package will report that it is not available");

  log_info ("main", "serving MCP on stdio version=%s limits=%s max_sandboxes=%lld", OMCP_VERSION,
            sandbox_engine_limits_backend (engine), (long long) config.max_sandboxes);
  ret = mcp_server_serve (server, STDIN_FILENO, STDOUT_FILENO, &err);
  if (ret < 0)
    log_error ("main", "serve failed: %s", err.message);

  /* Every call has finished: remove the sandboxes, then the engine. */
  sandbox_pool_free (pool);
  mcp_server_free (server);
  code_validator_free (settings.validator);
  sandbox_engine_free (engine);
  log_info ("main", "stopped");
  return ret < 0 ? 1 : 0;
}

static char *
read_source (const char *path, size_t *len)
{
  struct stat st;
  char *text;

  if (stat (path, &st) < 0)
    {
      fprintf (stderr, "omcp: cannot read %s: %s\n", path, strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > RUN_MAX_FILE_BYTES)
    {
      fprintf (stderr, "omcp: %s is not a regular file of at most %d bytes\n", path,
               RUN_MAX_FILE_BYTES);
      return NULL;
    }
  text = read_file_at (AT_FDCWD, path, len);
  if (text == NULL)
    fprintf (stderr, "omcp: cannot read %s: %s\n", path, strerror (errno));
  return text;
}

static int
command_run (const char *path)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  struct sandbox_exec_result result;
  sandbox_engine *engine = NULL;
  sandbox *sb = NULL;
  cleanup_free char *code = NULL;
  omcp_error err;
  size_t len;
  int exit_code;

  if (load_config (&config) < 0 || check_python (&config) < 0)
    return 2;
  /* The program's own stderr goes to the terminal too: keep the server's
   * INFO lines out of it unless LOG_LEVEL is set. */
  if (getenv ("LOG_LEVEL") == NULL)
    log_set_level (LOG_LEVEL_WARNING);
  code = read_source (path, &len);
  if (code == NULL)
    return 2;
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);

  if (sandbox_engine_new (&sc, &engine, &err) < 0 || sandbox_create (engine, "run", &sb, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      sandbox_engine_free (engine);
      return 1;
    }
  if (python_execute (sb, &settings, code, len, settings.default_timeout_ms, -1, NULL, NULL, "run",
                      &result, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      exit_code = 1;
    }
  else
    {
      if (write_all (STDOUT_FILENO, result.out, result.out_len) < 0
          || write_all (STDERR_FILENO, result.err, result.err_len) < 0)
        exit_code = 1;
      else
        exit_code = result.exit_code;
      if (result.message[0])
        fprintf (stderr, "omcp: %s\n", result.message);
      sandbox_exec_result_clear (&result);
    }
  sandbox_destroy (sb, "run finished");
  sandbox_engine_free (engine);
  return exit_code;
}

/* Python that reports, from inside, what the sandbox looks like. */
static const char doctor_probe[] =
  "import os\n"
  "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
  "print('uid', os.getuid(), 'CapEff', status['CapEff'].strip(), 'NoNewPrivs', status['NoNewPrivs'].strip(),\n"
  "      'Seccomp', status['Seccomp'].strip())\n"
  "import pandas, numpy\n"
  "print('pandas', pandas.__version__, 'numpy', numpy.__version__)\n";

static int
command_doctor (void)
{
  struct omcp_config config;
  struct sandbox_config sc;
  struct tools_settings settings;
  struct sandbox_check checks[8];
  size_t n, i;
  bool ok = true;

  if (load_config (&config) < 0)
    return 2;
  log_set_level (LOG_LEVEL_WARNING);
  sandbox_config_from (&config, &sc);
  tools_settings_from (&config, &settings);

  printf ("omcp %s doctor\n", OMCP_VERSION);
  n = sandbox_check_host (&sc, checks, N_ELEMENTS (checks));
  for (i = 0; i < n; i++)
    {
      printf ("  [%s] %-18s %s\n", checks[i].ok ? " ok " : (checks[i].required ? "FAIL" : "warn"),
              checks[i].name, checks[i].detail);
      if (!checks[i].ok && checks[i].required)
        ok = false;
    }

  if (ok)
    {
      sandbox_engine *engine = NULL;
      sandbox *sb = NULL;
      struct sandbox_exec_result result;
      omcp_error err;
      bool probe_ok = false;
      char detail[512] = "";

      if (access (config.sandbox_python, X_OK) < 0)
        snprintf (detail, sizeof detail, "%s: %s", config.sandbox_python, strerror (errno));
      else if (sandbox_engine_new (&sc, &engine, &err) < 0 || sandbox_create (engine, "doctor", &sb, &err) < 0)
        copy_string (detail, sizeof detail, err.message);
      else if (python_execute (sb, &settings, doctor_probe, strlen (doctor_probe), 60000, -1, NULL,
                               NULL, "doctor", &result, &err) < 0)
        copy_string (detail, sizeof detail, err.message);
      else
        {
          probe_ok = result.exit_code == 0
                     && strstr (result.out, "uid 1000 CapEff 0000000000000000 NoNewPrivs 1 Seccomp 2");
          snprintf (detail, sizeof detail, "%s", result.exit_code == 0 ? result.out : result.err);
          detail[strcspn (detail, "\n")] = probe_ok ? ' ' : '\0';
          for (char *p = detail; *p; p++)
            if (*p == '\n')
              *p = ' ';
          sandbox_exec_result_clear (&result);
        }
      if (sb)
        sandbox_destroy (sb, "doctor check done");
      sandbox_engine_free (engine);
      printf ("  [%s] %-18s %s\n", probe_ok ? " ok " : "FAIL", "python in sandbox", detail);
      ok = probe_ok;
    }

  printf ("%s\n", ok ? "This host can run omcp sandboxes." : "This host cannot run omcp sandboxes.");
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  const char *base = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  int c;

  /* Supervisors are this binary, started under another name. */
  if (strcmp (base, SANDBOX_SUPERVISOR_ARGV0) == 0)
    sandbox_supervisor_main (argc, argv);

  while ((c = getopt_long (argc, argv, "+hV", options, NULL)) != -1)
    switch (c)
      {
      case 'h':
        print_usage (stdout);
        return 0;
      case 'V':
        printf ("omcp %s\n", OMCP_VERSION);
        return 0;
      default:
        print_usage (stderr);
        return 2;
      }

  if (optind >= argc)
    {
      print_usage (stderr);
      return 2;
    }
  if (strcmp (argv[optind], "serve") == 0 && argc - optind == 1)
    return command_serve ();
  if (strcmp (argv[optind], "doctor") == 0 && argc - optind == 1)
    return command_doctor ();
  if (strcmp (argv[optind], "run") == 0 && argc - optind == 2)
    return command_run (argv[optind + 1]);

  fprintf (stderr, "omcp: unknown command or wrong arguments: '%s'. Run 'omcp --help'.\n",
           argv[optind]);
  return 2;
}
