/* Data access from sandboxes: a read-only bind of the SQLite file or of
 * the PostgreSQL Unix socket directory, and the OMOP_DB_* environment
 * variables that the omop module reads. The sandbox's network
 * namespace stays empty either way. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "tools.h"

#define MAX_ENV 9

static void
env_add (char **env, size_t *n, const char *name, const char *value)
{
  env[(*n)++] = xasprintf ("%s=%s", name, value);
}

/* PATH made absolute against the working directory, without resolving
 * links: the bind opens the path again for each new sandbox. */
static char *
absolute_path (const char *path, omcp_error *err)
{
  char cwd[PATH_MAX];

  if (path[0] == '/')
    return xstrdup (path);
  if (getcwd (cwd, sizeof cwd) == NULL)
    {
      omcp_error_set (err, errno, "resolve DB_PATH %s: read the working directory", path);
      return NULL;
    }
  return xasprintf ("%s/%s", strcmp (cwd, "/") == 0 ? "" : cwd, path);
}

/* True when the SQLite file PATH is in WAL mode: bytes 18 and 19 of its
 * header, the read and write format versions, are 2. */
static bool
sqlite_wal_mode (const char *path)
{
  unsigned char header[20];
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0 || pread (fd, header, sizeof header, 0) != (ssize_t) sizeof header)
    return false;
  return header[18] == 2 && header[19] == 2;
}

/* Bind only a regular file, never its directory, which may hold .env and
 * its passwords. The bind is optional so that a file created after the
 * server started (by omcp cdm load, say) reaches the sandboxes created
 * after it. */
static void
prepare_sqlite (struct sandbox_data_access *access, char **env, size_t *n)
{
  struct stat st;

  env_add (env, n, "OMOP_DB_PATH", SANDBOX_CDM_SQLITE_PATH);
  if (stat (access->host_path, &st) < 0)
    log_warning ("tools", "DB_PATH %s does not exist yet (%s): sandboxes created before it "
                 "exists have no CDM, and the omop module reports that no CDM database is loaded",
                 access->host_path, strerror (errno));
  else if (!S_ISREG (st.st_mode))
    {
      log_warning ("tools", "DB_PATH %s is not a regular file: sandboxes get no CDM",
                   access->host_path);
      return;
    }
  else if (sqlite_wal_mode (access->host_path))
    log_warning ("tools", "DB_PATH %s is in WAL mode: sandboxes see only the file itself, so "
                 "they read the CDM as of its last checkpoint; switch it to journal_mode=DELETE",
                 access->host_path);
  if (geteuid () == 0 && stat (access->host_path, &st) == 0 && !(st.st_mode & S_IROTH))
    log_warning ("tools", "DB_PATH %s is not readable by other users (mode %04o): sandboxes, "
                 "which run as unprivileged users, cannot read it; run chmod o+r on it",
                 access->host_path, (unsigned) (st.st_mode & 07777));

  access->bind = (struct sandbox_bind) {
    .host_path = access->host_path,
    .sandbox_path = SANDBOX_CDM_SQLITE_PATH,
    .optional = true,
    .regular_file = true,
  };
  access->n_binds = 1;
  log_info ("tools", "sandboxes see the SQLite CDM %s read-only at %s", access->host_path,
            SANDBOX_CDM_SQLITE_PATH);
}

/* Sandboxes have no network, so only a server listening on a Unix socket
 * is reachable: its directory is bound read-only (connecting to a socket
 * needs no write access to the mount). The user and password reach the
 * sandboxes only with that bind, because without it they could not use
 * them. */
static void
prepare_postgresql (const struct db_config *database, struct sandbox_data_access *access,
                    char **env, size_t *n)
{
  cleanup_free char *socket_path = NULL;
  struct stat st;
  bool socket_dir = database->host && database->host[0] == '/';

  env_add (env, n, "OMOP_DB_PORT", database->port ? database->port : "");
  env_add (env, n, "OMOP_DB_NAME", database->name ? database->name : "");
  env_add (env, n, "OMOP_DB_SCHEMA",
           database->schema && database->schema[0] ? database->schema : DB_CDM_SCHEMA);
  if (!socket_dir)
    {
      env_add (env, n, "OMOP_DB_HOST", database->host ? database->host : "");
      log_info ("tools", "PostgreSQL host %s is reached over TCP, which sandboxes cannot use: "
                "the omop module in sandboxes reports this; set DB_HOST to the server's Unix "
                "socket directory to query the CDM from sandboxes",
                database->host ? database->host : "");
      return;
    }

  env_add (env, n, "OMOP_DB_HOST", SANDBOX_CDM_SOCKET_DIR);

  /* The whole directory is bound, so it must be the socket's: a DB_HOST of
   * / or /home by mistake would show that tree to every sandbox. */
  access->host_path = xstrdup (database->host);
  socket_path = xasprintf ("%s/.s.PGSQL.%s", access->host_path,
                           database->port && database->port[0] ? database->port : "5432");
  if (stat (socket_path, &st) < 0 || !S_ISSOCK (st.st_mode))
    {
      log_warning ("tools", "DB_HOST %s has no PostgreSQL socket %s: sandboxes get no access to "
                   "the CDM; start PostgreSQL before omcp, or set DB_HOST to its socket "
                   "directory", access->host_path, socket_path);
      return;
    }
  access->bind = (struct sandbox_bind) {
    .host_path = access->host_path,
    .sandbox_path = SANDBOX_CDM_SOCKET_DIR,
    .optional = true,
  };
  access->n_binds = 1;
  env_add (env, n, "OMOP_DB_USER", database->user ? database->user : "");
  env_add (env, n, "OMOP_DB_PASSWORD", database->password ? database->password : "");
  log_info ("tools", "sandboxes reach PostgreSQL through the socket directory %s, bound "
            "read-only at %s", access->host_path, SANDBOX_CDM_SOCKET_DIR);
}

int
sandbox_data_access_init (const struct db_config *database, struct sandbox_data_access *access,
                          omcp_error *err)
{
  char **env = xcalloc (MAX_ENV + 1, sizeof *env);
  size_t n = 0;

  memset (access, 0, sizeof *access);
  env_add (env, &n, "OMOP_DB_BACKEND",
           database->backend == DB_BACKEND_SQLITE ? "sqlite" : "postgresql");
  if (database->backend == DB_BACKEND_SQLITE)
    {
      access->host_path = absolute_path (database->path ? database->path : "", err);
      if (access->host_path == NULL)
        {
          access->env = env;
          sandbox_data_access_clear (access);
          return -1;
        }
      prepare_sqlite (access, env, &n);
    }
  else
    prepare_postgresql (database, access, env, &n);
  access->env = env;
  return 0;
}

void
sandbox_data_access_clear (struct sandbox_data_access *access)
{
  size_t i;

  for (i = 0; access->env && access->env[i]; i++)
    {
      /* The entries contain the password. */
      explicit_bzero (access->env[i], strlen (access->env[i]));
      free (access->env[i]);
    }
  free (access->env);
  free (access->host_path);
  memset (access, 0, sizeof *access);
}
