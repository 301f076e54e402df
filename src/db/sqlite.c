/* SQLite backend. The connection's main database is in memory and the CDM
 * file is attached as omop_cdm, so SQL names omop_cdm.<table> as it does on
 * PostgreSQL. Read-only connections attach the file with mode=ro and set
 * query_only, so no statement can write to it. */
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "db-internal.h"
#include "log.h"
#include "policy.h"

/* Virtual-machine instructions between two deadline checks. */
#define PROGRESS_INTERVAL_OPS 1000

struct db_sqlite
{
  struct db base;
  sqlite3 *handle;
  int64_t deadline_ms;     /* monotonic; 0 while no statement runs */
};

struct db_bulk
{
  struct db_sqlite *conn;
  sqlite3_stmt *insert;
  const struct cdm_column *const *columns;
  size_t n_columns;
};

static int
sqlite_error (struct db_sqlite *conn, int errnum, const char *what, omcp_error *err)
{
  return omcp_error_set_kind (err, errnum, "%s: %s", what, sqlite3_errmsg (conn->handle));
}

/* Interrupt the running statement once its deadline has passed. */
static int
check_deadline (void *userdata)
{
  struct db_sqlite *conn = userdata;

  return conn->deadline_ms != 0 && now_monotonic_ms () >= conn->deadline_ms;
}

/* A "file:" URI for PATH, percent-encoding what URIs give a meaning. */
static char *
file_uri (const char *path, const char *mode)
{
  size_t len = strlen (path);
  char *uri = xmalloc (3 * len + 32);
  char *p = uri;

  /* An empty authority ("file://" before an absolute path) keeps a path
   * that starts with "//" from being read as a host name. */
  p += sprintf (p, path[0] == '/' ? "file://" : "file:");
  for (; *path; path++)
    {
      unsigned char c = (unsigned char) *path;
      if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f)
        p += sprintf (p, "%%%02X", c);
      else
        *p++ = (char) c;
    }
  sprintf (p, "?mode=%s", mode);
  return uri;
}

static void
sqlite_close (db *base)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;

  sqlite3_close_v2 (conn->handle);
  free (conn);
}

static int
sqlite_exec (db *base, const char *sql, omcp_error *err)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;

  if (sqlite3_exec (conn->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sqlite_error (conn, EIO, "SQLite", err);
  return 0;
}

static json_t *
column_value (sqlite3_stmt *stmt, int i)
{
  switch (sqlite3_column_type (stmt, i))
    {
    case SQLITE_INTEGER:
      return json_integer (sqlite3_column_int64 (stmt, i));
    case SQLITE_FLOAT:
      return json_real (sqlite3_column_double (stmt, i));
    case SQLITE_NULL:
      return json_null ();
    case SQLITE_BLOB:
      {
        /* NOTE: CDM tables hold no BLOBs; a query that makes one gets its
         * size, not its bytes. */
        char text[64];
        snprintf (text, sizeof text, "<%d bytes of binary data>", sqlite3_column_bytes (stmt, i));
        return json_string (text);
      }
    default:
      {
        const char *text = (const char *) sqlite3_column_text (stmt, i);
        size_t len = (size_t) sqlite3_column_bytes (stmt, i);
        json_t *value = json_stringn (text ? text : "", len);

        if (value == NULL)
          {
            cleanup_free char *clean = NULL;
            size_t clean_len;

            clean = utf8_sanitize (text, len, &clean_len);
            value = json_stringn_nocheck (clean, clean_len);
          }
        return value;
      }
    }
}

static int
bind_params (struct db_sqlite *conn, sqlite3_stmt *stmt, const struct db_value *params,
             size_t n_params, omcp_error *err)
{
  size_t i;
  int rc = SQLITE_OK;

  if (n_params > (size_t) sqlite3_bind_parameter_count (stmt))
    return omcp_error_set_kind (err, EINVAL, "query has %d parameters, %zu given",
                                sqlite3_bind_parameter_count (stmt), n_params);
  for (i = 0; i < n_params && rc == SQLITE_OK; i++)
    {
      int n = (int) i + 1;
      switch (params[i].type)
        {
        case DB_VALUE_NULL:
          rc = sqlite3_bind_null (stmt, n);
          break;
        case DB_VALUE_INTEGER:
          rc = sqlite3_bind_int64 (stmt, n, params[i].integer);
          break;
        case DB_VALUE_REAL:
          rc = sqlite3_bind_double (stmt, n, params[i].real);
          break;
        case DB_VALUE_TEXT:
          rc = sqlite3_bind_text (stmt, n, params[i].text, -1, SQLITE_TRANSIENT);
          break;
        case DB_VALUE_BOOL:
          rc = sqlite3_bind_int (stmt, n, params[i].boolean);
          break;
        }
    }
  if (rc != SQLITE_OK)
    return sqlite_error (conn, EINVAL, "bind query parameter", err);
  return 0;
}

/* Prepare SQL under the read-only policy: the token and PostgreSQL tree
 * checks, then SQLite's parser with the authorizer, one statement and
 * sqlite3_stmt_readonly. */
static int
prepare_read_only (struct db_sqlite *conn, const char *sql, sqlite3_stmt **out, omcp_error *err)
{
  return sql_policy_sqlite_prepare (conn->handle, sql, out, err);
}

static int
sqlite_select (db *base, const char *sql, const struct db_value *params, size_t n_params,
               size_t max_rows, struct db_rows *out, omcp_error *err)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;
  sqlite3_stmt *stmt = NULL;
  json_t *columns = NULL, *rows = NULL;
  bool truncated = false;
  int rc, n, i;

  if (prepare_read_only (conn, sql, &stmt, err) < 0)
    goto fail_unset;
  if (bind_params (conn, stmt, params, n_params, err) < 0)
    goto fail;

  n = sqlite3_column_count (stmt);
  columns = json_array ();
  for (i = 0; i < n; i++)
    json_array_append_new (columns, json_string (sqlite3_column_name (stmt, i)));

  /* The authorizer stays set while stepping: SQLite may prepare the
   * statement again after a schema change, and that must be checked too. */
  rows = json_array ();
  conn->deadline_ms = now_monotonic_ms () + base->timeout_ms;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_t *row;

      if (json_array_size (rows) == max_rows)
        {
          truncated = true;
          break;
        }
      row = json_array ();
      for (i = 0; i < n; i++)
        json_array_append_new (row, column_value (stmt, i));
      json_array_append_new (rows, row);
    }
  conn->deadline_ms = 0;
  if ((rc & 0xff) == SQLITE_INTERRUPT)
    {
      omcp_error_set_kind (err, ETIMEDOUT, "Query timed out after %lld ms",
                           (long long) base->timeout_ms);
      goto fail;
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sqlite_error (conn, (rc & 0xff) == SQLITE_AUTH ? EACCES : EIO, "SQLite query failed", err);
      goto fail;
    }

  sqlite3_finalize (stmt);
  sqlite3_set_authorizer (conn->handle, NULL, NULL);
  out->columns = columns;
  out->rows = rows;
  out->truncated = truncated;
  return 0;

fail:
  sqlite3_finalize (stmt);
fail_unset:
  sqlite3_set_authorizer (conn->handle, NULL, NULL);
  json_decref (columns);
  json_decref (rows);
  return -1;
}

/* Run a trusted statement of our own with one optional text parameter,
 * under the deadline, calling ON_ROW for each row. */
static int
run_internal (struct db_sqlite *conn, const char *sql, const char *param,
              int (*on_row) (sqlite3_stmt *stmt, void *userdata), void *userdata, omcp_error *err)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (conn->handle, sql, -1, &stmt, NULL) != SQLITE_OK)
    return sqlite_error (conn, EIO, "SQLite", err);
  if (param)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_TRANSIENT);
  conn->deadline_ms = now_monotonic_ms () + conn->base.timeout_ms;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (on_row (stmt, userdata) < 0)
      break;
  conn->deadline_ms = 0;
  sqlite3_finalize (stmt);
  if ((rc & 0xff) == SQLITE_INTERRUPT)
    return omcp_error_set_kind (err, ETIMEDOUT, "Query timed out after %lld ms",
                                (long long) conn->base.timeout_ms);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return sqlite_error (conn, EIO, "SQLite", err);
  return 0;
}

static int
append_table_name (sqlite3_stmt *stmt, void *userdata)
{
  json_array_append_new (userdata, json_string ((const char *) sqlite3_column_text (stmt, 0)));
  return 0;
}

static int
sqlite_list_tables (db *base, json_t **out, omcp_error *err)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;
  json_t *tables = json_array ();

  if (run_internal (conn,
                    "SELECT name FROM " DB_CDM_SCHEMA ".sqlite_schema WHERE type IN ('table', "
                    "'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                    NULL, append_table_name, tables, err) < 0)
    {
      json_decref (tables);
      return -1;
    }
  *out = json_pack ("[{s:s, s:o}]", "schema", DB_CDM_SCHEMA, "tables", tables);
  return 0;
}

static int
append_column (sqlite3_stmt *stmt, void *userdata)
{
  /* PRAGMA table_info: cid, name, type, notnull, dflt_value, pk */
  json_array_append_new (userdata,
                         json_pack ("{s:s, s:s, s:b}", "name", sqlite3_column_text (stmt, 1),
                                    "type", sqlite3_column_text (stmt, 2), "nullable",
                                    !sqlite3_column_int (stmt, 3)));
  return 0;
}

static int
store_count (sqlite3_stmt *stmt, void *userdata)
{
  *(int64_t *) userdata = sqlite3_column_int64 (stmt, 0);
  return 0;
}

static int
sqlite_describe_table (db *base, const char *table, json_t **columns, int64_t *row_count,
                       omcp_error *err)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;
  json_t *list = json_array ();
  cleanup_free char *count_sql = NULL;
  char *quoted;

  if (run_internal (conn, "SELECT * FROM pragma_table_info(?1, '" DB_CDM_SCHEMA "')", table,
                    append_column, list, err) < 0)
    goto fail;
  if (json_array_size (list) == 0)
    {
      omcp_error_set_kind (err, ENOENT,
                           "table " DB_CDM_SCHEMA ".%s does not exist: run 'omcp cdm init'",
                           table);
      goto fail;
    }
  quoted = sqlite3_mprintf ("SELECT count(*) FROM " DB_CDM_SCHEMA ".\"%w\"", table);
  count_sql = xstrdup (quoted);
  sqlite3_free (quoted);
  *row_count = 0;
  if (run_internal (conn, count_sql, NULL, store_count, row_count, err) < 0)
    goto fail;
  *columns = list;
  return 0;

fail:
  json_decref (list);
  return -1;
}

/* ---- bulk loading ---- */

static int
sqlite_bulk_begin (db *base, const struct cdm_table *table, const struct cdm_column *const *columns,
                   size_t n_columns, db_bulk **out, omcp_error *err)
{
  struct db_sqlite *conn = (struct db_sqlite *) base;
  sqlite3_str *sql = sqlite3_str_new (conn->handle);
  cleanup_free char *delete_sql = NULL;
  char *text;
  struct db_bulk *bulk;
  size_t i;

  /* A crash while loading may lose the load but nothing else: the CDM is
   * only ever rebuilt from its CSV files, and the journal still lets a
   * rejected file roll back. */
  if (sqlite_exec (base, "PRAGMA " DB_CDM_SCHEMA ".synchronous = OFF; BEGIN", err) < 0)
    return -1;
  text = sqlite3_mprintf ("DELETE FROM " DB_CDM_SCHEMA ".\"%w\"", table->name);
  delete_sql = xstrdup (text);
  sqlite3_free (text);
  if (sqlite_exec (base, delete_sql, err) < 0)
    goto fail;

  sqlite3_str_appendf (sql, "INSERT INTO " DB_CDM_SCHEMA ".\"%w\" (", table->name);
  for (i = 0; i < n_columns; i++)
    sqlite3_str_appendf (sql, "%s\"%w\"", i ? ", " : "", columns[i]->name);
  sqlite3_str_appendall (sql, ") VALUES (");
  for (i = 0; i < n_columns; i++)
    sqlite3_str_appendf (sql, "%s?", i ? ", " : "");
  sqlite3_str_appendall (sql, ")");
  text = sqlite3_str_finish (sql);

  bulk = xcalloc (1, sizeof *bulk);
  bulk->conn = conn;
  bulk->columns = columns;
  bulk->n_columns = n_columns;
  if (sqlite3_prepare_v3 (conn->handle, text, -1, SQLITE_PREPARE_PERSISTENT, &bulk->insert, NULL)
      != SQLITE_OK)
    {
      sqlite3_free (text);
      free (bulk);
      sqlite_error (conn, EIO, "prepare INSERT", err);
      goto fail;
    }
  sqlite3_free (text);
  *out = bulk;
  return 0;

fail:
  sqlite3_exec (conn->handle, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static int
sqlite_bulk_row (db_bulk *bulk, const struct load_value *values, omcp_error *err)
{
  sqlite3_stmt *stmt = bulk->insert;
  size_t i;
  int rc;

  for (i = 0; i < bulk->n_columns; i++)
    {
      const struct load_value *v = &values[i];
      int n = (int) i + 1;

      if (v->null)
        sqlite3_bind_null (stmt, n);
      else
        switch (bulk->columns[i]->type)
          {
          case CDM_INTEGER:
            sqlite3_bind_int64 (stmt, n, v->integer);
            break;
          case CDM_FLOAT:
            sqlite3_bind_double (stmt, n, v->real);
            break;
          default:
            sqlite3_bind_text (stmt, n, v->text, (int) v->len, SQLITE_STATIC);
            break;
          }
    }
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return omcp_error_set_kind (err, EINVAL, "%s", sqlite3_errmsg (bulk->conn->handle));
  return 0;
}

static int
sqlite_bulk_end (db_bulk *bulk, bool commit, int64_t *failed_row, omcp_error *err)
{
  struct db_sqlite *conn = bulk->conn;
  int ret = 0;

  *failed_row = -1;
  sqlite3_finalize (bulk->insert);
  free (bulk);
  if (commit)
    ret = sqlite_exec (&conn->base, "COMMIT", err);
  if (!commit || ret < 0)
    sqlite3_exec (conn->handle, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_exec (conn->handle, "PRAGMA " DB_CDM_SCHEMA ".synchronous = FULL", NULL, NULL, NULL);
  return ret;
}

static const struct db_ops sqlite_ops = {
  .close = sqlite_close,
  .select = sqlite_select,
  .list_tables = sqlite_list_tables,
  .describe_table = sqlite_describe_table,
  .exec = sqlite_exec,
  .bulk_begin = sqlite_bulk_begin,
  .bulk_row = sqlite_bulk_row,
  .bulk_end = sqlite_bulk_end,
};

int
db_sqlite_open (const struct db_config *config, bool read_only, db **out, omcp_error *err)
{
  struct db_sqlite *conn;
  sqlite3_stmt *attach = NULL;
  cleanup_free char *uri = NULL;
  struct stat st;
  int rc;

  if (config->path == NULL || config->path[0] == '\0')
    return omcp_error_set_kind (err, EINVAL, "SQLite: DB_PATH is empty");
  if (read_only && stat (config->path, &st) < 0)
    return omcp_error_set_kind (err, errno,
                                "SQLite CDM database %s cannot be opened: %s. Create it with "
                                "'omcp cdm init' and 'omcp cdm load', or set DB_PATH",
                                config->path, strerror (errno));

  conn = xcalloc (1, sizeof *conn);
  conn->base.ops = &sqlite_ops;
  conn->base.backend = DB_BACKEND_SQLITE;
  conn->base.read_only = read_only;
  conn->base.timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 10000;
  conn->base.schema = xstrdup (DB_CDM_SCHEMA);

  rc = sqlite3_open_v2 (":memory:", &conn->handle,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI
                          | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      omcp_error_set_kind (err, ENOMEM, "SQLite: cannot open an in-memory database: %s",
                           sqlite3_errstr (rc));
      goto fail;
    }
  sqlite3_extended_result_codes (conn->handle, 1);
  sqlite3_busy_timeout (conn->handle, (int) conn->base.timeout_ms);
  sqlite3_progress_handler (conn->handle, PROGRESS_INTERVAL_OPS, check_deadline, conn);
  /* Nothing omcp runs needs them, and a query must not load code. */
  sqlite3_db_config (conn->handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
  sqlite3_db_config (conn->handle, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config (conn->handle, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  /* A query such as SELECT randomblob(1e9) must not make the server
   * allocate a gigabyte; no CDM value comes near this length. */
  if (read_only)
    sqlite3_limit (conn->handle, SQLITE_LIMIT_LENGTH, DB_MAX_VALUE_BYTES);

  uri = file_uri (config->path, read_only ? "ro" : "rwc");
  if (sqlite3_prepare_v2 (conn->handle, "ATTACH DATABASE ?1 AS " DB_CDM_SCHEMA, -1, &attach, NULL)
      != SQLITE_OK)
    {
      sqlite_error (conn, EIO, "SQLite", err);
      goto fail;
    }
  sqlite3_bind_text (attach, 1, uri, -1, SQLITE_STATIC);
  rc = sqlite3_step (attach);
  sqlite3_finalize (attach);
  if (rc != SQLITE_DONE)
    {
      omcp_error_set_kind (err, EIO, "SQLite: cannot open the CDM database %s: %s", config->path,
                           sqlite3_errmsg (conn->handle));
      goto fail;
    }

  /* Reading the schema fails now, not at the first query, when the file
   * is not an SQLite database. */
  if (sqlite3_exec (conn->handle, "SELECT count(*) FROM " DB_CDM_SCHEMA ".sqlite_schema", NULL, NULL,
                    NULL)
      != SQLITE_OK)
    {
      omcp_error_set_kind (err, EIO, "SQLite: %s is not a usable database: %s", config->path,
                           sqlite3_errmsg (conn->handle));
      goto fail;
    }
  /* A load keeps a whole table's new pages in one transaction: with the
   * default 2 MiB cache they would spill to the file halfway. */
  if (!read_only
      && sqlite3_exec (conn->handle, "PRAGMA " DB_CDM_SCHEMA ".cache_size = -262144", NULL, NULL,
                       NULL)
           != SQLITE_OK)
    {
      sqlite_error (conn, EIO, "SQLite: set cache_size", err);
      goto fail;
    }
  if (read_only && sqlite3_exec (conn->handle, "PRAGMA query_only = ON", NULL, NULL, NULL) != SQLITE_OK)
    {
      sqlite_error (conn, EIO, "SQLite: set query_only", err);
      goto fail;
    }

  *out = &conn->base;
  return 0;

fail:
  free (conn->base.schema);
  sqlite_close (&conn->base);
  return -1;
}
