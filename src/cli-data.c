/* The data subcommands of omcp: `cdm init`, `cdm load` and `demo-data`,
 * and the configuration helpers they share with main.c. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdm.h"
#include "cli.h"
#include "db.h"
#include "demo.h"
#include "load.h"
#include "log.h"

/* ---- cdm init and cdm load ---- */

/* Output state of `omcp cdm load`. */
struct load_display
{
  bool terminal;           /* stderr is a terminal: rewrite one progress line */
  bool line_open;          /* a progress line is on screen without its newline */
};

static void
display_progress (void *userdata, const char *table, int64_t rows, double elapsed_s, bool done)
{
  struct load_display *d = userdata;
  char rate[40] = "";

  /* A rate measured over less than 10 ms is noise. */
  if (elapsed_s >= 0.01)
    snprintf (rate, sizeof rate, " %12.0f rows/s", (double) rows / elapsed_s);
  if (d->terminal)
    {
      fprintf (stderr, "\r\033[K  %-24s %10lld rows%s%s", table, (long long) rows, rate,
               done ? "\n" : "");
      d->line_open = !done;
    }
  else if (done)
    fprintf (stderr, "  %-24s %10lld rows%s\n", table, (long long) rows, rate);
  fflush (stderr);
}

static void
display_reject (void *userdata, const char *file, int64_t line, const char *reason)
{
  struct load_display *d = userdata;

  if (d->line_open)
    fputc ('\n', stderr);
  d->line_open = false;
  if (line > 0)
    fprintf (stderr, "omcp: %s:%lld: %s\n", file, (long long) line, reason);
  else
    fprintf (stderr, "omcp: %s: %s\n", file, reason);
}

/* Open a writable connection to the configured CDM database. */
static int
open_cdm_database (db **out)
{
  struct omcp_config config;
  struct db_config dc;
  omcp_error err;

  if (load_config (&config) < 0)
    return -1;
  db_config_from (&config, &dc);
  if (db_open (&dc, false, out, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  return 0;
}

int
command_cdm_init (void)
{
  db *conn = NULL;
  omcp_error err;
  int ret = 0;

  if (open_cdm_database (&conn) < 0)
    return 1;
  if (cdm_create_schema (conn, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      ret = 1;
    }
  else
    printf ("Created the OMOP CDM v5.4 tables (%zu) in the %s database.\n", cdm_n_tables,
            db_backend_name (db_get_backend (conn)));
  db_close (conn);
  return ret;
}

int
command_cdm_load (const char *path)
{
  struct load_display display = { .terminal = isatty (STDERR_FILENO) == 1 };
  struct load_callbacks callbacks = {
    .on_progress = display_progress,
    .on_reject = display_reject,
    .userdata = &display,
  };
  struct load_summary summary;
  db *conn = NULL;
  omcp_error err;
  int ret;

  if (open_cdm_database (&conn) < 0)
    return 1;
  ret = cdm_load_path (conn, path, &callbacks, &summary, &err);
  if (display.line_open)
    fputc ('\n', stderr);
  printf ("Loaded %lld rows from %zu %s in %.2f s", (long long) summary.rows_loaded,
          summary.files_loaded, summary.files_loaded == 1 ? "file" : "files", summary.seconds);
  /* A load of a few rows can take less than the printed precision. */
  if (summary.seconds >= 0.005)
    printf (" (%.0f rows/s)", (double) summary.rows_loaded / summary.seconds);
  printf (".\n");
  if (ret < 0)
    printf ("%zu %s failed and loaded nothing (rejected rows: %lld); see the messages above.\n",
            summary.files_failed, summary.files_failed == 1 ? "file" : "files",
            (long long) summary.rows_rejected);
  if (ret < 0 && summary.files_failed == 0)
    fprintf (stderr, "omcp: %s\n", err.message);
  load_summary_clear (&summary);
  db_close (conn);
  return ret < 0 ? 1 : 0;
}

/* ---- demo-data ---- */

/* Remove the CSV files that demo_write_csv wrote into DIRFD, then DIR. */
static void
remove_demo_files (int dirfd, const char *dir, const struct demo_table_rows rows[DEMO_N_TABLES])
{
  size_t i;

  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      cleanup_free char *name = xasprintf ("%s.csv", rows[i].table);

      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        fprintf (stderr, "omcp: cannot remove %s/%s: %s\n", dir, name, strerror (errno));
    }
  if (rmdir (dir) < 0)
    fprintf (stderr, "omcp: cannot remove %s: %s\n", dir, strerror (errno));
}

/* Return the name of a CSV file in directory DIRFD that demo-data does not
 * write, or NULL when there is none. Loading reads every CSV file of the
 * directory, so another one would be loaded with the demo. */
static char *
find_foreign_file (int dirfd)
{
  DIR *dir;
  struct dirent *entry;
  char *found = NULL;
  int fd = dup (dirfd);

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return xstrdup ("(unreadable directory)");
    }
  while (found == NULL && (entry = readdir (dir)) != NULL)
    {
      size_t name_len = strlen (entry->d_name);
      bool known = name_len < 4 || strcasecmp (entry->d_name + name_len - 4, ".csv") != 0;

      for (size_t i = 0; i < DEMO_N_TABLES && !known; i++)
        {
          size_t len = strlen (demo_tables[i]);

          known = strncmp (entry->d_name, demo_tables[i], len) == 0
                  && strcmp (entry->d_name + len, ".csv") == 0;
        }
      if (!known)
        found = xstrdup (entry->d_name);
    }
  closedir (dir);
  return found;
}

/* Fail unless the CDM in CONN has no person yet: loading the demo into a
 * loaded CDM would mix invented persons with real ones, or collide on
 * their ids. */
static int
check_cdm_empty (db *conn, const struct omcp_config *config)
{
  struct db_rows rows = { 0 };
  omcp_error err;
  json_int_t persons;

  if (db_select (conn, "SELECT COUNT(*) FROM " DB_CDM_SCHEMA ".person", NULL, 0, 1, &rows, &err)
      < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      return -1;
    }
  persons = json_integer_value (json_array_get (json_array_get (rows.rows, 0), 0));
  db_rows_clear (&rows);
  if (persons > 0)
    {
      if (db_get_backend (conn) == DB_BACKEND_SQLITE)
        fprintf (stderr,
                 "omcp: the CDM in %s already contains %lld persons; demo-data loads only into "
                 "an empty CDM. Set DB_PATH to a new file.\n",
                 config->db_path, (long long) persons);
      else
        fprintf (stderr,
                 "omcp: the CDM in schema %s of database %s already contains %lld persons; "
                 "demo-data loads only into an empty CDM. Set DB_SCHEMA or DB_NAME to an empty "
                 "one.\n",
                 config->db_schema, config->db_name, (long long) persons);
      return -1;
    }
  return 0;
}

/* Open a writable connection to the configured CDM database, create the
 * CDM tables and check that they hold no person. Fills CONFIG. */
static int
open_empty_cdm (struct omcp_config *config, db **out)
{
  db *conn = NULL;
  omcp_error err;

  if (load_config (config) < 0 || open_cdm_database (&conn) < 0)
    return -1;
  if (cdm_create_schema (conn, &err) < 0)
    {
      fprintf (stderr, "omcp: %s\n", err.message);
      db_close (conn);
      return -1;
    }
  if (check_cdm_empty (conn, config) < 0)
    {
      db_close (conn);
      return -1;
    }
  *out = conn;
  return 0;
}

/* Create DIR, or a new temporary directory whose path goes into TEMPORARY
 * when DIR is NULL, and open it. With FOR_LOADING, fail when DIR contains
 * another CSV file. Returns the descriptor, or -1 after printing why. */
static int
open_demo_directory (const char *dir, bool for_loading, char *temporary, size_t size)
{
  cleanup_close int dirfd = -1;

  if (dir == NULL)
    {
      const char *tmpdir = getenv ("TMPDIR");

      snprintf (temporary, size, "%s/omcp-demo-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
      if (mkdtemp (temporary) == NULL)
        {
          fprintf (stderr, "omcp: cannot create a directory in %s: %s\n",
                   tmpdir && *tmpdir ? tmpdir : "/tmp", strerror (errno));
          return -1;
        }
      dir = temporary;
    }
  else if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    {
      fprintf (stderr, "omcp: cannot create %s: %s\n", dir, strerror (errno));
      return -1;
    }

  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      fprintf (stderr, "omcp: cannot open %s: %s\n", dir, strerror (errno));
      if (dir == temporary)
        rmdir (temporary);
      return -1;
    }
  if (for_loading && dir != temporary)
    {
      cleanup_free char *foreign = find_foreign_file (dirfd);

      if (foreign)
        {
          fprintf (stderr, "omcp: %s contains '%s', which demo-data would load too. Give a new "
                           "or empty directory, or none for a temporary one.\n", dir, foreign);
          return -1;
        }
    }
  return steal_fd (&dirfd);
}

/* omcp demo-data [--csv-only] [DIR]: write the synthetic CDM as CSV files
 * into DIR (a new temporary directory when DIR is absent, removed
 * afterwards) and load them into the configured database, unless
 * --csv-only. */
int
command_demo_data (int argc, char **argv)
{
  struct load_display display = { .terminal = isatty (STDERR_FILENO) == 1 };
  struct load_callbacks callbacks = {
    .on_progress = display_progress,
    .on_reject = display_reject,
    .userdata = &display,
  };
  struct demo_table_rows rows[DEMO_N_TABLES];
  struct load_summary summary = { 0 };
  struct omcp_config config;
  const char *dir = NULL;
  char temporary[PATH_MAX];
  cleanup_close int dirfd = -1;
  bool csv_only = false;
  db *conn = NULL;
  int64_t written = 0;
  omcp_error err;
  int i, ret;
  size_t t;

  for (i = 0; i < argc; i++)
    {
      if (strcmp (argv[i], "--csv-only") == 0)
        csv_only = true;
      else if (argv[i][0] == '-' || dir != NULL)
        {
          fprintf (stderr, "omcp: invalid demo-data argument '%s'. Usage: omcp demo-data "
                           "[--csv-only] [DIR]\n", argv[i]);
          return 2;
        }
      else
        dir = argv[i];
    }
  if (csv_only && dir == NULL)
    {
      fprintf (stderr, "omcp: demo-data --csv-only needs a directory to write to\n");
      return 2;
    }

  /* Check the database before writing anything. */
  if (!csv_only && open_empty_cdm (&config, &conn) < 0)
    return 1;

  /* Write the CSV files. */
  dirfd = open_demo_directory (dir, !csv_only, temporary, sizeof temporary);
  if (dirfd < 0)
    {
      db_close (conn);
      return 1;
    }
  if (demo_write_csv (dirfd, rows, &err) < 0)
    {
      fprintf (stderr, "omcp: cannot write the demo CSV files to %s: %s\n", dir ? dir : temporary,
               err.message);
      if (dir == NULL)
        remove_demo_files (dirfd, temporary, rows);
      db_close (conn);
      return 1;
    }
  for (t = 0; t < DEMO_N_TABLES; t++)
    written += rows[t].rows;
  if (csv_only)
    {
      printf ("Wrote %lld rows in %d CSV files to %s.\n", (long long) written, DEMO_N_TABLES, dir);
      return 0;
    }

  /* Load them. */
  ret = cdm_load_path (conn, dir ? dir : temporary, &callbacks, &summary, &err);
  if (display.line_open)
    fputc ('\n', stderr);
  if (ret == 0 && summary.rows_loaded != written)
    {
      fprintf (stderr, "omcp: wrote %lld demo rows but loaded %lld\n", (long long) written,
               (long long) summary.rows_loaded);
      ret = -1;
    }
  else if (ret < 0 && summary.files_failed > 0)
    fprintf (stderr, "omcp: %zu demo files failed and loaded nothing (%lld rows rejected); see the "
             "messages above.\n", summary.files_failed, (long long) summary.rows_rejected);
  else if (ret < 0)
    fprintf (stderr, "omcp: %s\n", err.message);
  if (ret == 0)
    printf ("Loaded the demo CDM, %lld rows in %zu tables, into the %s database%s%s in %.2f s.\n",
            (long long) summary.rows_loaded, summary.files_loaded,
            db_backend_name (db_get_backend (conn)),
            db_get_backend (conn) == DB_BACKEND_SQLITE ? " " : "",
            db_get_backend (conn) == DB_BACKEND_SQLITE ? config.db_path : "", summary.seconds);
  load_summary_clear (&summary);
  db_close (conn);
  if (dir == NULL)
    remove_demo_files (dirfd, temporary, rows);
  return ret < 0 ? 1 : 0;
}
