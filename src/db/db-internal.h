/* Shared between the files of src/db: the connection object with its
 * backend operations, bulk loading and the DDL text. */
#ifndef OMCP_DB_INTERNAL_H
#define OMCP_DB_INTERNAL_H

#include "cdm.h"
#include "db.h"

/* One value of a row being loaded, already validated. TEXT is the value in
 * its normalised text form for every type (COPY sends text); INTEGER and
 * REAL hold the parsed number for backends that bind them. */
struct load_value
{
  bool null;
  int64_t integer;
  double real;
  const char *text;
  size_t len;
};

typedef struct db_bulk db_bulk;

struct db_ops
{
  void (*close) (db *db);
  int (*select) (db *db, const char *sql, const struct db_value *params, size_t n_params,
                 size_t max_rows, struct db_rows *out, omcp_error *err);
  int (*list_tables) (db *db, json_t **out, omcp_error *err);
  int (*describe_table) (db *db, const char *table, json_t **columns, int64_t *row_count,
                         omcp_error *err);
  /* Run SQL text without results on a writable connection. */
  int (*exec) (db *db, const char *sql, omcp_error *err);

  /* Start replacing the rows of TABLE inside one transaction: delete
   * them, then accept rows for COLUMNS in that order. */
  int (*bulk_begin) (db *db, const struct cdm_table *table, const struct cdm_column *const *columns,
                     size_t n_columns, db_bulk **out, omcp_error *err);
  /* Add one row. Fails only for errors the backend reports at once. */
  int (*bulk_row) (db_bulk *bulk, const struct load_value *values, omcp_error *err);
  /* Commit when COMMIT is true, else roll back, and free BULK. When the
   * backend rejects a row only at the end (PostgreSQL COPY), *FAILED_ROW
   * is its 0-based index among the rows sent, else -1. */
  int (*bulk_end) (db_bulk *bulk, bool commit, int64_t *failed_row, omcp_error *err);
};

struct db
{
  const struct db_ops *ops;
  enum db_backend backend;
  bool read_only;
  int64_t timeout_ms;
  char *schema;            /* where the CDM tables are: DB_CDM_SCHEMA on SQLite */
};

int db_sqlite_open (const struct db_config *config, bool read_only, db **out, omcp_error *err);
int db_pg_open (const struct db_config *config, bool read_only, db **out, omcp_error *err);

/* Run SQL without results (DDL, transaction control). DB must be
 * writable. */
int db_exec (db *db, const char *sql, omcp_error *err) OMCP_WUR;

/* The CREATE TABLE and CREATE INDEX statements of TABLE for BACKEND in
 * SCHEMA, each ending in ";\n", all "IF NOT EXISTS". */
char *cdm_table_ddl (enum db_backend backend, const char *schema, const struct cdm_table *table);

/* The database type of COLUMN on BACKEND ("INTEGER", "bigint",
 * "varchar(50)", ...), in static or BUF storage. */
const char *cdm_column_sql_type (enum db_backend backend, const struct cdm_column *column,
                                 char buf[32]);

/* Text value conversion used by the loader and by tests. */
enum value_status
{
  VALUE_OK,
  VALUE_NULL,
  VALUE_INVALID,
};

/* Validate TEXT (LEN bytes) as a value of COLUMN and normalise it into
 * OUT, whose TEXT points into TEXT or NORM (at least 32 bytes). Empty text
 * is NULL. On VALUE_INVALID, REASON (256 bytes) receives
 * the reason. */
enum value_status cdm_value_parse (const struct cdm_column *column, const char *text, size_t len,
                                   char *norm, struct load_value *out, char *reason);

#endif
