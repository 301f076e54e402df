/* Loading OMOP CSV files, from a directory, a .zip or one file, into the
 * CDM tables. Each file replaces the rows of its table in one transaction,
 * so loading the same files again gives the same tables, and a file with
 * any rejected row changes nothing. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#include "csvread.h"
#include "db-internal.h"
#include "load.h"

/* Rejected rows reported one by one per file; the rest are counted. */
#define MAX_REPORTED_REJECTS 100

/* Rows between two progress callbacks. */
#define PROGRESS_INTERVAL_ROWS 10000

#define READ_CHUNK_BYTES (256 * 1024)

/* One CSV file of the input. */
struct source_entry
{
  char *name;              /* as shown in messages: the path or the zip member */
  char *base;              /* file name without directories */
  zip_uint64_t zip_index;
};

struct source
{
  const char *path;
  int dirfd;               /* directory input, or -1 */
  zip_t *zip;              /* zip input, or NULL */
  bool single_file;
  struct source_entry *entries;
  size_t n_entries;
};

/* The load of one file into one table. */
struct file_load
{
  db *conn;
  const struct cdm_table *table;
  const char *file;
  const struct load_callbacks *callbacks;
  double start_s;

  bool header_done;
  const struct cdm_column **columns;   /* in header order */
  size_t n_columns;
  struct load_value *values;
  char (*norm)[32];

  db_bulk *bulk;
  int64_t rows;
  int64_t rejected;
  /* Offsets between row numbers and line numbers, one entry per change
   * (after a multi-line field or a blank line): from row FIRST_ROW on,
   * row R starts on line R + SHIFT. A late error names a row, and these
   * give its line. */
  struct line_shift
  {
    int64_t first_row;
    int64_t shift;
  } *shifts;
  size_t n_shifts;
  char error[512];         /* why the whole file failed, or "" */
};

static double
now_s (void)
{
  return (double) now_monotonic_ms () / 1000.0;
}

static bool
has_suffix (const char *name, const char *suffix)
{
  size_t len = strlen (name), n = strlen (suffix);

  return len >= n && strcasecmp (name + len - n, suffix) == 0;
}

/* ---- input enumeration ---- */

static bool
wanted_name (const char *full)
{
  const char *base = strrchr (full, '/') ? strrchr (full, '/') + 1 : full;

  /* macOS archives carry resource forks as __MACOSX/._NAME. */
  if (strncmp (full, "__MACOSX/", 9) == 0 || strstr (full, "/__MACOSX/") != NULL)
    return false;
  return base[0] != '\0' && strncmp (base, "._", 2) != 0 && has_suffix (base, ".csv");
}

static void
add_entry (struct source *src, const char *name, zip_uint64_t index)
{
  struct source_entry *e;

  src->entries = xrealloc (src->entries, (src->n_entries + 1) * sizeof *src->entries);
  e = &src->entries[src->n_entries++];
  e->name = xstrdup (name);
  e->base = xstrdup (strrchr (name, '/') ? strrchr (name, '/') + 1 : name);
  e->zip_index = index;
}

static int
compare_entries (const void *a, const void *b)
{
  const struct source_entry *x = a, *y = b;

  return strcasecmp (x->base, y->base);
}

static void
source_close (struct source *src)
{
  size_t i;

  for (i = 0; i < src->n_entries; i++)
    {
      free (src->entries[i].name);
      free (src->entries[i].base);
    }
  free (src->entries);
  if (src->dirfd >= 0)
    close (src->dirfd);
  if (src->zip)
    zip_discard (src->zip);
}

/* Read every member once, which checks its CRC, so that a corrupt
 * archive loads nothing rather than the tables before the damage. */
static int
verify_zip (struct source *src, omcp_error *err)
{
  cleanup_free char *buf = xmalloc (READ_CHUNK_BYTES);
  size_t i;

  for (i = 0; i < src->n_entries; i++)
    {
      zip_file_t *zf = zip_fopen_index (src->zip, src->entries[i].zip_index, 0);
      zip_int64_t n = -1;

      if (zf != NULL)
        while ((n = zip_fread (zf, buf, READ_CHUNK_BYTES)) > 0)
          ;
      if (n < 0)
        {
          omcp_error_set_kind (err, EINVAL,
                               "cannot read %s from the zip archive: %s. The archive is corrupt; "
                               "nothing was loaded",
                               src->entries[i].name,
                               zf ? zip_file_strerror (zf) : zip_strerror (src->zip));
          if (zf)
            zip_fclose (zf);
          return -1;
        }
      zip_fclose (zf);
    }
  return 0;
}

static int
open_zip (struct source *src, omcp_error *err)
{
  zip_int64_t n, i;
  int code = 0;

  /* Not ZIP_CHECKCONS: archives made on macOS fail its comparison of
   * local and central headers although every member reads back intact. */
  src->zip = zip_open (src->path, ZIP_RDONLY, &code);
  if (src->zip == NULL)
    {
      zip_error_t error;

      zip_error_init_with_code (&error, code);
      omcp_error_set_kind (err, EINVAL,
                           "cannot read the zip archive: %s. The file may be truncated or "
                           "corrupt; nothing was loaded",
                           zip_error_strerror (&error));
      zip_error_fini (&error);
      return -1;
    }
  n = zip_get_num_entries (src->zip, 0);
  for (i = 0; i < n; i++)
    {
      const char *name = zip_get_name (src->zip, (zip_uint64_t) i, 0);

      if (name && wanted_name (name))
        add_entry (src, name, (zip_uint64_t) i);
    }
  return verify_zip (src, err);
}

static int
open_directory (struct source *src, omcp_error *err)
{
  DIR *dir;
  struct dirent *d;
  int fd;

  src->dirfd = open (src->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src->dirfd < 0)
    return omcp_error_set (err, errno, "open the directory");
  fd = fcntl (src->dirfd, F_DUPFD_CLOEXEC, 0);
  dir = fd >= 0 ? fdopendir (fd) : NULL;
  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return omcp_error_set (err, errno, "read the directory");
    }
  while ((d = readdir (dir)) != NULL)
    {
      struct stat st;

      if (!wanted_name (d->d_name) || fstatat (src->dirfd, d->d_name, &st, 0) < 0
          || !S_ISREG (st.st_mode))
        continue;
      add_entry (src, d->d_name, 0);
    }
  closedir (dir);
  return 0;
}

static int
source_open (struct source *src, const char *path, omcp_error *err)
{
  struct stat st;

  memset (src, 0, sizeof *src);
  src->path = path;
  src->dirfd = -1;
  if (stat (path, &st) < 0)
    return omcp_error_set (err, errno, "cannot open it");
  if (S_ISDIR (st.st_mode))
    {
      if (open_directory (src, err) < 0)
        return -1;
    }
  else if (S_ISREG (st.st_mode) && has_suffix (path, ".csv"))
    {
      src->single_file = true;
      add_entry (src, path, 0);
    }
  else if (S_ISREG (st.st_mode))
    {
      if (open_zip (src, err) < 0)
        return -1;
    }
  else
    return omcp_error_set_kind (err, EINVAL, "not a directory, a .zip or a .csv file");

  if (src->n_entries == 0)
    return omcp_error_set_kind (err, ENOENT, "no .csv file found");
  qsort (src->entries, src->n_entries, sizeof *src->entries, compare_entries);
  return 0;
}

/* ---- one file ---- */

static void
reject_row (struct file_load *fl, int64_t line, const char *reason)
{
  fl->rejected++;
  if (fl->rejected <= MAX_REPORTED_REJECTS && fl->callbacks && fl->callbacks->on_reject)
    fl->callbacks->on_reject (fl->callbacks->userdata, fl->file, line, reason);
}

static int
read_header (struct file_load *fl, char *const *fields, const size_t *lengths, size_t n)
{
  size_t i, j;

  fl->columns = xcalloc (n + 1, sizeof *fl->columns);
  for (i = 0; i < n; i++)
    {
      const struct cdm_column *column;

      column = lengths[i] ? cdm_find_column (fl->table, fields[i]) : NULL;
      if (column == NULL)
        {
          snprintf (fl->error, sizeof fl->error,
                    "line 1: unknown column '%.64s' in the header: table %s has no such column",
                    fields[i], fl->table->name);
          return -1;
        }
      for (j = 0; j < i; j++)
        if (fl->columns[j] == column)
          {
            snprintf (fl->error, sizeof fl->error, "line 1: column '%s' appears twice in the header",
                      column->name);
            return -1;
          }
      fl->columns[i] = column;
    }
  for (j = 0; j < fl->table->n_columns; j++)
    {
      const struct cdm_column *column = &fl->table->columns[j];
      bool present = false;

      for (i = 0; i < n; i++)
        present |= fl->columns[i] == column;
      if (column->required && !present)
        {
          snprintf (fl->error, sizeof fl->error,
                    "line 1: the header lacks the required column %s of table %s", column->name,
                    fl->table->name);
          return -1;
        }
    }
  fl->n_columns = n;
  fl->values = xcalloc (n, sizeof *fl->values);
  fl->norm = xcalloc (n, sizeof *fl->norm);
  return 0;
}

/* Record that the next row (index FL->rows) starts on LINE. */
static void
remember_line (struct file_load *fl, int64_t line)
{
  int64_t shift = line - fl->rows;

  if (fl->n_shifts > 0 && fl->shifts[fl->n_shifts - 1].shift == shift)
    return;
  fl->shifts = xrealloc (fl->shifts, (fl->n_shifts + 1) * sizeof *fl->shifts);
  fl->shifts[fl->n_shifts].first_row = fl->rows;
  fl->shifts[fl->n_shifts].shift = shift;
  fl->n_shifts++;
}

/* The line where row ROW (0-based among the rows sent) starts. */
static int64_t
row_line (const struct file_load *fl, int64_t row)
{
  size_t lo = 0, hi = fl->n_shifts;

  /* The last entry whose first_row is at most ROW. */
  while (hi - lo > 1)
    {
      size_t mid = (lo + hi) / 2;
      if (fl->shifts[mid].first_row <= row)
        lo = mid;
      else
        hi = mid;
    }
  return row + fl->shifts[lo].shift;
}

static int
on_record (void *userdata, int64_t line, char *const *fields, const size_t *lengths, size_t n)
{
  struct file_load *fl = userdata;
  char reason[256];
  omcp_error err;
  size_t i;

  if (!fl->header_done)
    {
      fl->header_done = true;
      if (read_header (fl, fields, lengths, n) < 0)
        return -1;
      if (fl->conn->ops->bulk_begin (fl->conn, fl->table, fl->columns, fl->n_columns, &fl->bulk, &err)
          < 0)
        {
          copy_string (fl->error, sizeof fl->error, err.message);
          return -1;
        }
      return 0;
    }

  if (n != fl->n_columns)
    {
      snprintf (reason, sizeof reason, "the row has %zu fields but the header has %zu", n,
                fl->n_columns);
      reject_row (fl, line, reason);
      return 0;
    }
  for (i = 0; i < n; i++)
    if (cdm_value_parse (fl->columns[i], fields[i], lengths[i], fl->norm[i], &fl->values[i], reason)
        == VALUE_INVALID)
      {
        reject_row (fl, line, reason);
        return 0;
      }

  /* After a rejected row nothing will be committed: only validate. */
  if (fl->rejected > 0)
    return 0;
  if (fl->conn->ops->bulk_row (fl->bulk, fl->values, &err) < 0)
    {
      reject_row (fl, line, err.message);
      return 0;
    }
  remember_line (fl, line);
  fl->rows++;
  if (fl->rows % PROGRESS_INTERVAL_ROWS == 0 && fl->callbacks && fl->callbacks->on_progress)
    fl->callbacks->on_progress (fl->callbacks->userdata, fl->table->name, fl->rows,
                                now_s () - fl->start_s, false);
  return 0;
}

/* Feed the bytes of ENTRY to READER. */
static int
read_entry (struct source *src, const struct source_entry *entry, struct csv_reader *reader,
            omcp_error *err)
{
  cleanup_free char *buf = xmalloc (READ_CHUNK_BYTES);
  cleanup_close int fd = -1;
  zip_file_t *zf = NULL;
  int ret = 0;

  if (src->zip)
    {
      zf = zip_fopen_index (src->zip, entry->zip_index, 0);
      if (zf == NULL)
        return omcp_error_set_kind (err, EIO, "cannot read it from the zip archive: %s",
                                    zip_strerror (src->zip));
    }
  else
    {
      fd = src->single_file ? open (entry->name, O_RDONLY | O_CLOEXEC)
                            : openat (src->dirfd, entry->name, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return omcp_error_set (err, errno, "open");
    }

  for (;;)
    {
      ssize_t n = zf ? (ssize_t) zip_fread (zf, buf, READ_CHUNK_BYTES)
                     : TEMP_FAILURE_RETRY (read (fd, buf, READ_CHUNK_BYTES));

      if (n < 0)
        {
          if (zf)
            ret = omcp_error_set_kind (err, EIO, "cannot read it from the zip archive: %s",
                                       zip_file_strerror (zf));
          else
            ret = omcp_error_set (err, errno, "read");
          break;
        }
      if (n == 0)
        {
          ret = csv_reader_finish (reader, err);
          break;
        }
      if (csv_reader_feed (reader, buf, (size_t) n, err) < 0)
        {
          ret = -1;
          break;
        }
    }
  if (zf)
    zip_fclose (zf);
  return ret;
}

/* The file-level outcome of rejected rows. */
static void
rejected_message (const struct file_load *fl, char *buf, size_t size)
{
  if (fl->rejected > MAX_REPORTED_REJECTS)
    snprintf (buf, size, "%lld rows rejected, only the first %d are listed; nothing was loaded",
              (long long) fl->rejected, MAX_REPORTED_REJECTS);
  else
    snprintf (buf, size, "%lld row%s rejected; nothing was loaded", (long long) fl->rejected,
              fl->rejected == 1 ? "" : "s");
}

static void
file_load_free (struct file_load *fl)
{
  free (fl->columns);
  free (fl->values);
  free (fl->norm);
  free (fl->shifts);
}

/* Load ENTRY into TABLE. Returns the rows loaded, or -1 when the file
 * loaded nothing; FL->error or the rejected rows give the reason. */
static int64_t
load_entry (db *conn, struct source *src, const struct source_entry *entry,
            const struct cdm_table *table, const struct load_callbacks *callbacks,
            struct file_load *fl)
{
  struct csv_reader reader;
  omcp_error err;
  int64_t failed_row = -1;
  bool ok;

  memset (fl, 0, sizeof *fl);
  fl->conn = conn;
  fl->table = table;
  fl->file = entry->name;
  fl->callbacks = callbacks;
  fl->start_s = now_s ();

  csv_reader_init (&reader, on_record, fl);
  if (read_entry (src, entry, &reader, &err) < 0 && fl->error[0] == '\0')
    copy_string (fl->error, sizeof fl->error, err.message);
  csv_reader_free (&reader);
  if (!fl->header_done && fl->error[0] == '\0')
    snprintf (fl->error, sizeof fl->error, "the file is empty: it needs a header line");

  ok = fl->error[0] == '\0' && fl->rejected == 0;
  if (fl->bulk && conn->ops->bulk_end (fl->bulk, ok, &failed_row, &err) < 0 && ok)
    {
      ok = false;
      if (failed_row >= 0 && failed_row < fl->rows)
        reject_row (fl, row_line (fl, failed_row), err.message);
      else
        copy_string (fl->error, sizeof fl->error, err.message);
    }
  fl->bulk = NULL;

  if (fl->error[0])
    {
      if (callbacks && callbacks->on_reject)
        callbacks->on_reject (callbacks->userdata, fl->file, 0, fl->error);
    }
  else if (fl->rejected > 0)
    {
      rejected_message (fl, fl->error, sizeof fl->error);
      if (callbacks && callbacks->on_reject)
        callbacks->on_reject (callbacks->userdata, fl->file, 0, fl->error);
    }
  if (ok && callbacks && callbacks->on_progress)
    callbacks->on_progress (callbacks->userdata, table->name, fl->rows, now_s () - fl->start_s,
                            true);
  return ok ? fl->rows : -1;
}

/* ---- the whole input ---- */

void
load_summary_clear (struct load_summary *summary)
{
  json_decref (summary->tables);
  memset (summary, 0, sizeof *summary);
}

static void
report_file_error (const struct load_callbacks *callbacks, const char *file, const char *message)
{
  if (callbacks && callbacks->on_reject)
    callbacks->on_reject (callbacks->userdata, file, 0, message);
}

int
cdm_load_path (db *conn, const char *path, const struct load_callbacks *callbacks,
               struct load_summary *summary, omcp_error *err)
{
  struct source src;
  /* The file each table was loaded from, to reject a second one. */
  const char **seen = xcalloc (cdm_n_tables, sizeof *seen);
  double start = now_s ();
  size_t i;
  int ret = 0;

  memset (summary, 0, sizeof *summary);
  summary->tables = json_array ();
  if (conn->read_only)
    {
      free (seen);
      return omcp_error_set_kind (err, EROFS, "load %s: the connection is read-only", path);
    }
  if (source_open (&src, path, err) < 0)
    {
      report_file_error (callbacks, path, err->message);
      omcp_error_prefix (err, "%s", path);
      json_array_append_new (summary->tables, json_pack ("{s:s, s:I, s:b, s:s}", "file", path,
                                                          "rows", (json_int_t) 0, "loaded", 0,
                                                          "error", err->message));
      summary->files_failed = 1;
      source_close (&src);
      free (seen);
      return -1;
    }
  if (cdm_create_schema (conn, err) < 0)
    {
      source_close (&src);
      free (seen);
      return -1;
    }

  for (i = 0; i < src.n_entries; i++)
    {
      const struct source_entry *entry = &src.entries[i];
      cleanup_free char *table_name = xstrndup (entry->base, strlen (entry->base) - 4);
      const struct cdm_table *table = cdm_find_table (table_name);
      struct file_load fl;
      char message[512] = "";
      int64_t rows = -1;

      if (table == NULL)
        snprintf (message, sizeof message,
                  "no CDM v5.4 table is named '%.64s': name each file after its table, such as "
                  "person.csv",
                  table_name);
      else if (seen[table - cdm_tables])
        snprintf (message, sizeof message, "table %s was already loaded from %.200s",
                  table->name, seen[table - cdm_tables]);
      if (message[0])
        report_file_error (callbacks, entry->name, message);
      else
        {
          seen[table - cdm_tables] = entry->name;
          rows = load_entry (conn, &src, entry, table, callbacks, &fl);
          if (rows < 0)
            copy_string (message, sizeof message, fl.error);
          summary->rows_rejected += fl.rejected;
          file_load_free (&fl);
        }

      if (rows >= 0)
        {
          summary->rows_loaded += rows;
          summary->files_loaded++;
          json_array_append_new (summary->tables,
                                 json_pack ("{s:s, s:s, s:I, s:b}", "table", table->name, "file",
                                            entry->name, "rows", (json_int_t) rows, "loaded", 1));
        }
      else
        {
          summary->files_failed++;
          json_array_append_new (summary->tables,
                                 json_pack ("{s:s?, s:s, s:I, s:b, s:s}", "table",
                                            table ? table->name : NULL, "file", entry->name,
                                            "rows", (json_int_t) 0, "loaded", 0, "error",
                                            message));
          if (ret == 0)
            omcp_error_set_kind (err, EINVAL, "%s: %s", entry->name, message);
          ret = -1;
        }
    }

  summary->seconds = now_s () - start;
  source_close (&src);
  free (seen);
  return ret;
}
