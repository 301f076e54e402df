/* PostgreSQL backend through libpq. Read-only connections run every
 * statement in its own READ ONLY transaction with a statement_timeout and
 * read results through a cursor, so at most max_rows + 1 rows leave the
 * server. The connection's search_path is the configured schema. */
#include <libpq-fe.h>
#include <string.h>

#include "db-internal.h"
#include "log.h"
#include "policy.h"

/* Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in
 * types. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* SQLSTATE of a statement cancelled by statement_timeout. */
#define SQLSTATE_QUERY_CANCELED "57014"

/* Bytes of COPY data collected before one PQputCopyData call. */
#define COPY_BUFFER_BYTES (256 * 1024)

struct db_pg
{
  struct db base;
  PGconn *pq;
  char *target;             /* "user@host:port/name", for messages; no password */
};

struct db_bulk
{
  struct db_pg *conn;
  char *buf;
  size_t len;
  size_t n_columns;
  int64_t rows;
};

static void
pg_close (db *base)
{
  struct db_pg *conn = (struct db_pg *) base;

  PQfinish (conn->pq);
  free (conn->target);
  free (conn);
}

/* The server's message without its trailing newline. */
static const char *
pg_message (PGconn *conn, const PGresult *res, char *buf, size_t size)
{
  const char *text = res ? PQresultErrorMessage (res) : NULL;

  if (text == NULL || text[0] == '\0')
    text = PQerrorMessage (conn);
  copy_string (buf, size, text);
  buf[strcspn (buf, "\n")] = '\0';
  return buf;
}

static int
pg_result_error (struct db_pg *conn, const PGresult *res, const char *what, omcp_error *err)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  char message[512];

  if (state && strcmp (state, SQLSTATE_QUERY_CANCELED) == 0)
    return omcp_error_set_kind (err, ETIMEDOUT, "Query timed out after %lld ms",
                                (long long) conn->base.timeout_ms);
  if (PQstatus (conn->pq) == CONNECTION_BAD)
    return omcp_error_set_kind (err, ECONNRESET, "PostgreSQL %s: connection lost: %s",
                                conn->target, pg_message (conn->pq, res, message, sizeof message));
  return omcp_error_set_kind (err, state && strncmp (state, "42", 2) == 0 ? EINVAL : EIO,
                              "%s: %s", what, pg_message (conn->pq, res, message, sizeof message));
}

/* Run SQL without parameters and expect no rows. */
static int
pg_command (struct db_pg *conn, const char *sql, const char *what, omcp_error *err)
{
  PGresult *res = PQexec (conn->pq, sql);
  int ret = 0;

  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    ret = pg_result_error (conn, res, what, err);
  PQclear (res);
  return ret;
}

static int
pg_exec (db *base, const char *sql, omcp_error *err)
{
  return pg_command ((struct db_pg *) base, sql, "PostgreSQL", err);
}

/* Reconnect when the server closed the connection since the last call,
 * so that a restarted server does not need an omcp restart. */
static int
ensure_connected (struct db_pg *conn, omcp_error *err)
{
  char message[512];

  if (PQstatus (conn->pq) == CONNECTION_OK)
    return 0;
  PQreset (conn->pq);
  if (PQstatus (conn->pq) != CONNECTION_OK)
    return omcp_error_set_kind (err, ECONNREFUSED, "PostgreSQL %s is not reachable: %s",
                                conn->target, pg_message (conn->pq, NULL, message, sizeof message));
  log_info ("db", "reconnected to PostgreSQL %s", conn->target);
  return 0;
}

/* Open a READ ONLY transaction with the statement deadline. The SQL
 * policy scans text as PostgreSQL does with standard_conforming_strings
 * on, so the server must read backslashes in '...' the same way. */
static int
begin_read_only (struct db_pg *conn, omcp_error *err)
{
  char sql[160];

  if (ensure_connected (conn, err) < 0)
    return -1;
  snprintf (sql, sizeof sql,
            "BEGIN READ ONLY; SET LOCAL statement_timeout = %lld; "
            "SET LOCAL standard_conforming_strings = on",
            (long long) conn->base.timeout_ms);
  return pg_command (conn, sql, "PostgreSQL: start a read-only transaction", err);
}

static void
end_read_only (struct db_pg *conn)
{
  PQclear (PQexec (conn->pq, "ROLLBACK"));
}

/* True when TEXT is an integer literal that fits int64. */
static bool
integer_text (const char *text, int64_t *out)
{
  return strpbrk (text, ".eEN") == NULL && parse_int64 (text, out);
}

static json_t *
pg_value (const PGresult *res, int row, int col)
{
  const char *text;
  int64_t integer;

  if (PQgetisnull (res, row, col))
    return json_null ();
  text = PQgetvalue (res, row, col);
  switch (PQftype (res, col))
    {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
      if (parse_int64 (text, &integer))
        return json_integer (integer);
      return json_string (text);
    case OID_NUMERIC:
      /* An aggregate such as sum(bigint) is numeric but integral: keep it
       * an integer, as SQLite does. */
      if (integer_text (text, &integer))
        return json_integer (integer);
      /* fall through */
    case OID_FLOAT4:
    case OID_FLOAT8:
      {
        char *end;
        double real = strtod (text, &end);
        if (*end == '\0' && real == real && real - real == 0)
          return json_real (real);
        /* NaN and infinities have no JSON number. */
        return json_string (text);
      }
    case OID_BOOL:
      return json_boolean (text[0] == 't');
    default:
      {
        /* Dates and timestamps arrive as ISO text with DateStyle ISO. */
        json_t *value = json_string (text);
        if (value == NULL)
          {
            cleanup_free char *clean = NULL;
            size_t len;

            clean = utf8_sanitize (text, strlen (text), &len);
            value = json_stringn (clean, len);
          }
        return value;
      }
    }
}

/* Bound parameters as text; booleans and numbers in PostgreSQL's input
 * syntax. The server infers their types from the query. */
static char **
params_text (const struct db_value *params, size_t n_params)
{
  char **values = xcalloc (n_params + 1, sizeof *values);
  size_t i;

  for (i = 0; i < n_params; i++)
    switch (params[i].type)
      {
      case DB_VALUE_NULL:
        values[i] = NULL;
        break;
      case DB_VALUE_INTEGER:
        values[i] = xasprintf ("%lld", (long long) params[i].integer);
        break;
      case DB_VALUE_REAL:
        values[i] = xasprintf ("%.17g", params[i].real);
        break;
      case DB_VALUE_TEXT:
        values[i] = xstrdup (params[i].text);
        break;
      case DB_VALUE_BOOL:
        values[i] = xstrdup (params[i].boolean ? "true" : "false");
        break;
      }
  return values;
}

static void
free_params_text (char **values, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free (values[i]);
  free (values);
}

/* The query without trailing white space and semicolon, to follow
 * "DECLARE ... CURSOR FOR". The policy already allowed at most one. */
static char *
cursor_sql (const char *sql)
{
  size_t len = strlen (sql);

  while (len > 0 && strchr (" \t\r\n\f\v;", sql[len - 1]))
    len--;
  return xasprintf ("DECLARE omcp_rows NO SCROLL CURSOR FOR %.*s", (int) len, sql);
}

static int
pg_select (db *base, const char *sql, const struct db_value *params, size_t n_params,
           size_t max_rows, struct db_rows *out, omcp_error *err)
{
  struct db_pg *conn = (struct db_pg *) base;
  cleanup_free char *declare = NULL;
  char **values = NULL;
  PGresult *res = NULL;
  json_t *columns = NULL, *rows = NULL;
  char fetch[64];
  int n_rows, n_cols, r, c;

  if (sql_policy_check_postgres (sql, err) < 0)
    return -1;
  if (begin_read_only (conn, err) < 0)
    return -1;

  declare = cursor_sql (sql);
  values = params_text (params, n_params);
  res = PQexecParams (conn->pq, declare, (int) n_params, NULL, (const char *const *) values, NULL,
                      NULL, 0);
  free_params_text (values, n_params);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      pg_result_error (conn, res, "PostgreSQL rejected the query", err);
      goto fail;
    }
  PQclear (res);

  snprintf (fetch, sizeof fetch, "FETCH FORWARD %zu FROM omcp_rows", max_rows + 1);
  res = PQexec (conn->pq, fetch);
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_result_error (conn, res, "PostgreSQL query failed", err);
      goto fail;
    }

  n_rows = PQntuples (res);
  n_cols = PQnfields (res);
  columns = json_array ();
  for (c = 0; c < n_cols; c++)
    json_array_append_new (columns, json_string (PQfname (res, c)));
  rows = json_array ();
  for (r = 0; r < n_rows && (size_t) r < max_rows; r++)
    {
      json_t *row = json_array ();
      for (c = 0; c < n_cols; c++)
        json_array_append_new (row, pg_value (res, r, c));
      json_array_append_new (rows, row);
    }
  out->truncated = (size_t) n_rows > max_rows;
  out->columns = columns;
  out->rows = rows;
  PQclear (res);
  end_read_only (conn);
  return 0;

fail:
  PQclear (res);
  end_read_only (conn);
  return -1;
}

/* Run a trusted query of our own, with text parameters, in a read-only
 * transaction. */
static PGresult *
pg_internal_query (struct db_pg *conn, const char *sql, int n_params, const char *const *params,
                   omcp_error *err)
{
  PGresult *res;

  if (begin_read_only (conn, err) < 0)
    return NULL;
  res = PQexecParams (conn->pq, sql, n_params, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_result_error (conn, res, "PostgreSQL", err);
      PQclear (res);
      res = NULL;
    }
  end_read_only (conn);
  return res;
}

static int
pg_list_tables (db *base, json_t **out, omcp_error *err)
{
  struct db_pg *conn = (struct db_pg *) base;
  PGresult *res;
  json_t *list = json_array (), *tables = NULL;
  const char *schema = NULL;
  int r;

  res = pg_internal_query (conn,
                           "SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                           "ORDER BY table_schema <> $1, table_schema, table_name",
                           1, (const char *const[]) { base->schema }, err);
  if (res == NULL)
    {
      json_decref (list);
      return -1;
    }
  for (r = 0; r < PQntuples (res); r++)
    {
      if (schema == NULL || strcmp (schema, PQgetvalue (res, r, 0)) != 0)
        {
          schema = PQgetvalue (res, r, 0);
          tables = json_array ();
          json_array_append_new (list, json_pack ("{s:s, s:o}", "schema", schema, "tables", tables));
        }
      json_array_append_new (tables, json_string (PQgetvalue (res, r, 1)));
    }
  PQclear (res);
  *out = list;
  return 0;
}

static int
pg_describe_table (db *base, const char *table, json_t **columns, int64_t *row_count,
                   omcp_error *err)
{
  struct db_pg *conn = (struct db_pg *) base;
  PGresult *res;
  json_t *list;
  char *schema_id, *table_id;
  cleanup_free char *count_sql = NULL;
  int r;

  res = pg_internal_query (
    conn,
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON a.attrelid = c.oid "
    "JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid "
    "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum",
    2, (const char *const[]) { base->schema, table }, err);
  if (res == NULL)
    return -1;
  if (PQntuples (res) == 0)
    {
      PQclear (res);
      return omcp_error_set_kind (err, ENOENT,
                                  "table %s.%s does not exist: run 'omcp cdm init'",
                                  base->schema, table);
    }
  list = json_array ();
  for (r = 0; r < PQntuples (res); r++)
    json_array_append_new (list, json_pack ("{s:s, s:s, s:b}", "name", PQgetvalue (res, r, 0),
                                            "type", PQgetvalue (res, r, 1), "nullable",
                                            PQgetvalue (res, r, 2)[0] == 't'));
  PQclear (res);

  schema_id = PQescapeIdentifier (conn->pq, base->schema, strlen (base->schema));
  table_id = PQescapeIdentifier (conn->pq, table, strlen (table));
  count_sql = xasprintf ("SELECT count(*) FROM %s.%s", schema_id, table_id);
  PQfreemem (schema_id);
  PQfreemem (table_id);
  res = pg_internal_query (conn, count_sql, 0, NULL, err);
  if (res == NULL)
    {
      json_decref (list);
      return -1;
    }
  if (!parse_int64 (PQgetvalue (res, 0, 0), row_count))
    *row_count = -1;
  PQclear (res);
  *columns = list;
  return 0;
}

/* ---- bulk loading: COPY FROM STDIN in text format ---- */

static int
pg_bulk_begin (db *base, const struct cdm_table *table, const struct cdm_column *const *columns,
               size_t n_columns, db_bulk **out, omcp_error *err)
{
  struct db_pg *conn = (struct db_pg *) base;
  cleanup_free char *truncate_sql = NULL, *copy_sql = NULL;
  char *schema_id, *table_id, *col_id;
  size_t len = 0, size = 256, i;
  char *cols = xmalloc (size);
  PGresult *res;

  if (ensure_connected (conn, err) < 0)
    {
      free (cols);
      return -1;
    }
  cols[0] = '\0';
  for (i = 0; i < n_columns; i++)
    {
      col_id = PQescapeIdentifier (conn->pq, columns[i]->name, strlen (columns[i]->name));
      size_t need = len + strlen (col_id) + 3;
      if (need > size)
        cols = xrealloc (cols, size = need * 2);
      len += (size_t) sprintf (cols + len, "%s%s", i ? ", " : "", col_id);
      PQfreemem (col_id);
    }
  schema_id = PQescapeIdentifier (conn->pq, base->schema, strlen (base->schema));
  table_id = PQescapeIdentifier (conn->pq, table->name, strlen (table->name));
  /* TRUNCATE is transactional in PostgreSQL: a rolled-back load keeps the
   * old rows. */
  truncate_sql = xasprintf ("BEGIN; TRUNCATE %s.%s", schema_id, table_id);
  copy_sql = xasprintf ("COPY %s.%s (%s) FROM STDIN", schema_id, table_id, cols);
  PQfreemem (schema_id);
  PQfreemem (table_id);
  free (cols);

  if (pg_command (conn, truncate_sql, "PostgreSQL: empty the table", err) < 0)
    {
      PQclear (PQexec (conn->pq, "ROLLBACK"));
      return -1;
    }
  res = PQexec (conn->pq, copy_sql);
  if (PQresultStatus (res) != PGRES_COPY_IN)
    {
      pg_result_error (conn, res, "PostgreSQL: start COPY", err);
      PQclear (res);
      PQclear (PQexec (conn->pq, "ROLLBACK"));
      return -1;
    }
  PQclear (res);

  *out = xcalloc (1, sizeof **out);
  (*out)->conn = conn;
  (*out)->buf = xmalloc (COPY_BUFFER_BYTES);
  (*out)->n_columns = n_columns;
  return 0;
}

static int
flush_copy (db_bulk *bulk, omcp_error *err)
{
  char message[512];

  if (bulk->len == 0)
    return 0;
  if (PQputCopyData (bulk->conn->pq, bulk->buf, (int) bulk->len) != 1)
    return omcp_error_set_kind (err, EIO, "PostgreSQL: COPY failed: %s",
                                pg_message (bulk->conn->pq, NULL, message, sizeof message));
  bulk->len = 0;
  return 0;
}

/* Write the LEN bytes of TEXT to OUT in COPY text format, escaping
 * backslash, tab, newline and carriage return. OUT needs 2 * LEN bytes.
 * Returns the bytes written. */
static size_t
copy_escape (char *out, const char *text, size_t len)
{
  size_t n = 0, i;

  for (i = 0; i < len; i++)
    {
      char escape = 0;

      switch (text[i])
        {
        case '\\':
          escape = '\\';
          break;
        case '\t':
          escape = 't';
          break;
        case '\n':
          escape = 'n';
          break;
        case '\r':
          escape = 'r';
          break;
        default:
          break;
        }
      if (escape)
        {
          out[n++] = '\\';
          out[n++] = escape;
        }
      else
        out[n++] = text[i];
    }
  return n;
}

/* Append V and the separator END in COPY text format, with \N for NULL. */
static int
append_copy_value (db_bulk *bulk, const struct load_value *v, char end, omcp_error *err)
{
  /* Worst case: every byte escaped, plus the separator. */
  size_t need = v->null ? 3 : 2 * v->len + 1;

  if (bulk->len + need > COPY_BUFFER_BYTES && flush_copy (bulk, err) < 0)
    return -1;
  if (need > COPY_BUFFER_BYTES)
    {
      /* A value larger than the buffer goes out on its own. */
      cleanup_free char *big = xmalloc (need);
      size_t n = copy_escape (big, v->text, v->len);

      big[n++] = end;
      if (PQputCopyData (bulk->conn->pq, big, (int) n) != 1)
        return omcp_error_set_kind (err, EIO, "PostgreSQL: COPY failed: %s",
                                    PQerrorMessage (bulk->conn->pq));
      return 0;
    }

  if (v->null)
    {
      memcpy (bulk->buf + bulk->len, "\\N", 2);
      bulk->len += 2;
    }
  else
    bulk->len += copy_escape (bulk->buf + bulk->len, v->text, v->len);
  bulk->buf[bulk->len++] = end;
  return 0;
}

static int
pg_bulk_row (db_bulk *bulk, const struct load_value *values, omcp_error *err)
{
  size_t i;

  for (i = 0; i < bulk->n_columns; i++)
    if (append_copy_value (bulk, &values[i], i + 1 < bulk->n_columns ? '\t' : '\n', err) < 0)
      return -1;
  bulk->rows++;
  return 0;
}

/* The 0-based row of a COPY error, from its context "COPY person, line
 * 12, ..." (lines count from 1). */
static int64_t
copy_error_row (const PGresult *res)
{
  const char *context = PQresultErrorField (res, PG_DIAG_CONTEXT);
  const char *line = context ? strstr (context, ", line ") : NULL;

  if (line == NULL)
    return -1;
  return strtoll (line + 7, NULL, 10) - 1;
}

static int
pg_bulk_end (db_bulk *bulk, bool commit, int64_t *failed_row, omcp_error *err)
{
  struct db_pg *conn = bulk->conn;
  PGresult *res;
  int ret = 0;

  *failed_row = -1;
  if (commit && flush_copy (bulk, err) < 0)
    commit = false, ret = -1;
  if (PQputCopyEnd (conn->pq, commit ? NULL : "load rejected") != 1 && ret == 0)
    ret = pg_result_error (conn, NULL, "PostgreSQL: end COPY", err);
  while ((res = PQgetResult (conn->pq)) != NULL)
    {
      if (PQresultStatus (res) != PGRES_COMMAND_OK && commit && ret == 0)
        {
          *failed_row = copy_error_row (res);
          ret = pg_result_error (conn, res, "PostgreSQL", err);
        }
      PQclear (res);
    }
  if (commit && ret == 0)
    ret = pg_command (conn, "COMMIT", "PostgreSQL: commit", err);
  else
    PQclear (PQexec (conn->pq, "ROLLBACK"));
  free (bulk->buf);
  free (bulk);
  return ret;
}

static const struct db_ops pg_ops = {
  .close = pg_close,
  .select = pg_select,
  .list_tables = pg_list_tables,
  .describe_table = pg_describe_table,
  .exec = pg_exec,
  .bulk_begin = pg_bulk_begin,
  .bulk_row = pg_bulk_row,
  .bulk_end = pg_bulk_end,
};

/* Session settings: ISO dates, the CDM schema first in search_path, and
 * for read-only connections read-only transactions by default. */
static int
configure_session (struct db_pg *conn, bool read_only, omcp_error *err)
{
  char *schema_id = PQescapeIdentifier (conn->pq, conn->base.schema, strlen (conn->base.schema));
  cleanup_free char *sql = NULL;

  sql = xasprintf ("SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
                   "SET search_path = %s, public%s",
                   schema_id, read_only ? "; SET default_transaction_read_only = on" : "");
  PQfreemem (schema_id);
  return pg_command (conn, sql, "PostgreSQL: configure the session", err);
}

/* Server notices (such as a ROLLBACK outside a transaction) go to the log
 * at debug level instead of libpq's default, stderr. */
static void
log_notice (void *userdata, const char *message)
{
  (void) userdata;
  log_debug ("db", "PostgreSQL notice: %.*s", (int) strcspn (message, "\n"), message);
}

/* True for a name PostgreSQL keeps as written without quotes. */
static bool
plain_identifier (const char *name)
{
  const char *p;

  if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_') || strlen (name) > 63)
    return false;
  for (p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  return true;
}

int
db_pg_open (const struct db_config *config, bool read_only, db **out, omcp_error *err)
{
  struct db_pg *conn;
  char connect_timeout[32];
  char message[512];
  const char *keys[] = { "host", "port", "user", "password", "dbname", "connect_timeout",
                         "application_name", "client_encoding", NULL };
  const char *values[N_ELEMENTS (keys)];
  int64_t timeout_s;

  /* libpq counts connect_timeout in whole seconds, at least 2. */
  timeout_s = config->timeout_ms > 0 ? (config->timeout_ms + 999) / 1000 : 10;
  snprintf (connect_timeout, sizeof connect_timeout, "%lld",
            (long long) (timeout_s < 2 ? 2 : timeout_s));
  values[0] = config->host && config->host[0] ? config->host : NULL;
  values[1] = config->port && config->port[0] ? config->port : NULL;
  values[2] = config->user && config->user[0] ? config->user : NULL;
  values[3] = config->password && config->password[0] ? config->password : NULL;
  values[4] = config->name && config->name[0] ? config->name : NULL;
  values[5] = connect_timeout;
  values[6] = "omcp";
  values[7] = "UTF8";
  values[8] = NULL;

  if (!plain_identifier (config->schema && config->schema[0] ? config->schema : DB_CDM_SCHEMA))
    return omcp_error_set_kind (err, EINVAL,
                                "DB_SCHEMA '%s' is invalid: use lower-case letters, digits and _",
                                config->schema);

  conn = xcalloc (1, sizeof *conn);
  conn->base.ops = &pg_ops;
  conn->base.backend = DB_BACKEND_POSTGRESQL;
  conn->base.read_only = read_only;
  conn->base.timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 10000;
  conn->base.schema = xstrdup (config->schema && config->schema[0] ? config->schema : DB_CDM_SCHEMA);
  conn->target = xasprintf ("%s@%s:%s/%s", values[2] ? values[2] : "(default user)",
                          values[0] ? values[0] : "(default host)",
                          values[1] ? values[1] : "5432", values[4] ? values[4] : "(default)");

  /* expand_dbname = 0: a database name is never parsed as a connection
   * string. */
  conn->pq = PQconnectdbParams (keys, values, 0);
  if (PQstatus (conn->pq) != CONNECTION_OK)
    {
      omcp_error_set_kind (err, ECONNREFUSED,
                           "PostgreSQL %s is not reachable: %s. Check DB_HOST, DB_PORT, DB_USER, "
                           "DB_PASSWORD and DB_NAME",
                           conn->target, pg_message (conn->pq, NULL, message, sizeof message));
      goto fail;
    }
  PQsetNoticeProcessor (conn->pq, log_notice, conn);
  if (configure_session (conn, read_only, err) < 0)
    goto fail;
  if (strcmp (conn->base.schema, DB_CDM_SCHEMA) != 0)
    log_warning ("db", "DB_SCHEMA is %s: SQL that names " DB_CDM_SCHEMA ".<table> needs a "
                       "schema of that name; unqualified table names use search_path",
                 conn->base.schema);

  *out = &conn->base;
  return 0;

fail:
  free (conn->base.schema);
  pg_close (&conn->base);
  return -1;
}
