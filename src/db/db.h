/* Access to an OMOP CDM database, SQLite or PostgreSQL, behind one
 * interface. Knows nothing of MCP or sandboxes. The CDM tables are always
 * named omop_cdm.<table> in SQL: SQLite attaches the CDM file under that
 * name; on PostgreSQL the connection's search_path and the configured
 * schema make the same text work. A connection is not thread-safe; callers
 * serialise their use of one. */
#ifndef OMCP_DB_H
#define OMCP_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Maximum length of a string or blob that a read-only SQLite query may build. */
#define DB_MAX_VALUE_BYTES (16 * 1024 * 1024)

/* Schema name of the CDM tables in every SQL text omcp runs. */
#define DB_CDM_SCHEMA "omop_cdm"

enum db_backend
{
  DB_BACKEND_SQLITE,
  DB_BACKEND_POSTGRESQL,
};

struct db_config
{
  enum db_backend backend;
  const char *path;       /* SQLite: the CDM database file */
  const char *host;       /* PostgreSQL: host name or Unix socket directory */
  const char *port;
  const char *user;
  const char *password;
  const char *name;       /* PostgreSQL database */
  const char *schema;     /* PostgreSQL schema holding the CDM tables */
  int64_t timeout_ms;     /* deadline of each statement */
};

typedef struct db db;

/* Connect. READ_ONLY opens SQLite read-only and runs every PostgreSQL
 * statement in a READ ONLY transaction; writable connections are for the
 * loaders only. Errors name the backend and name what to check: errnum
 * ENOENT for a missing SQLite file, ECONNREFUSED for an unreachable
 * server. */
int db_open (const struct db_config *config, bool read_only, db **out, omcp_error *err) OMCP_WUR;
void db_close (db *db);

enum db_backend db_get_backend (db *db);
const char *db_backend_name (enum db_backend backend); /* "sqlite", "postgresql" */

enum db_value_type
{
  DB_VALUE_NULL,
  DB_VALUE_INTEGER,
  DB_VALUE_REAL,
  DB_VALUE_TEXT,
  DB_VALUE_BOOL,
};

/* A bound parameter. */
struct db_value
{
  enum db_value_type type;
  int64_t integer;
  double real;
  const char *text;
  bool boolean;
};

/* Write the placeholder of parameter N (from 1) in this backend's syntax,
 * "?N" or "$N", into BUF. */
void db_placeholder (db *db, unsigned n, char buf[16]);

/* Rows of a result: COLUMNS is an array of names, ROWS an array of arrays
 * in column order. Integers and floating-point numbers are JSON numbers,
 * dates and datetimes ISO strings ("2020-01-31", "2020-01-31 08:00:00"),
 * NULL is null. TRUNCATED is true when the query had more than max_rows
 * rows. */
struct db_rows
{
  json_t *columns;
  json_t *rows;
  bool truncated;
};

void db_rows_clear (struct db_rows *rows);

/* Check SQL against the read-only policy before the database receives it,
 * then run it with PARAMS bound, under the deadline, fetching at most
 * MAX_ROWS + 1 rows. errnum EACCES: refused by the policy, with a message
 * starting "Only read-only SELECT queries are allowed"; ETIMEDOUT: the
 * deadline passed ("Query timed out after N ms"). */
int db_select (db *db, const char *sql, const struct db_value *params, size_t n_params,
               size_t max_rows, struct db_rows *out, omcp_error *err) OMCP_WUR;

/* List the schemas and tables visible to the connection, as
 * [{"schema": "omop_cdm", "tables": ["care_site", ...]}, ...]. */
int db_list_tables (db *db, json_t **out, omcp_error *err) OMCP_WUR;

/* The columns of CDM table TABLE (already checked against the CDM list) as
 * [{"name", "type", "nullable"}], with the database's own type names, and
 * its number of rows. */
int db_describe_table (db *db, const char *table, json_t **columns, int64_t *row_count,
                       omcp_error *err) OMCP_WUR;

#endif
