/* Backend-independent parts of the database layer. */
#include <string.h>

#include "db-internal.h"

int
db_open (const struct db_config *config, bool read_only, db **out, omcp_error *err)
{
  switch (config->backend)
    {
    case DB_BACKEND_SQLITE:
      return db_sqlite_open (config, read_only, out, err);
    case DB_BACKEND_POSTGRESQL:
      return db_pg_open (config, read_only, out, err);
    }
  return omcp_error_set_kind (err, EINVAL, "unknown database backend %d", (int) config->backend);
}

void
db_close (db *conn)
{
  if (conn == NULL)
    return;
  free (conn->schema);
  conn->ops->close (conn);
}

enum db_backend
db_get_backend (db *conn)
{
  return conn->backend;
}

const char *
db_backend_name (enum db_backend backend)
{
  return backend == DB_BACKEND_POSTGRESQL ? "postgresql" : "sqlite";
}

void
db_placeholder (db *conn, unsigned n, char buf[16])
{
  snprintf (buf, 16, "%c%u", conn->backend == DB_BACKEND_POSTGRESQL ? '$' : '?', n);
}

void
db_rows_clear (struct db_rows *rows)
{
  json_decref (rows->columns);
  json_decref (rows->rows);
  rows->columns = NULL;
  rows->rows = NULL;
  rows->truncated = false;
}

int
db_select (db *conn, const char *sql, const struct db_value *params, size_t n_params,
           size_t max_rows, struct db_rows *out, omcp_error *err)
{
  return conn->ops->select (conn, sql, params, n_params, max_rows, out, err);
}

int
db_list_tables (db *conn, json_t **out, omcp_error *err)
{
  return conn->ops->list_tables (conn, out, err);
}

int
db_describe_table (db *conn, const char *table, json_t **columns, int64_t *row_count,
                   omcp_error *err)
{
  return conn->ops->describe_table (conn, table, columns, row_count, err);
}

int
db_exec (db *conn, const char *sql, omcp_error *err)
{
  if (conn->read_only)
    return omcp_error_set_kind (err, EROFS, "the %s connection is read-only",
                                db_backend_name (conn->backend));
  return conn->ops->exec (conn, sql, err);
}
