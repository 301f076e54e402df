/* Test helper: runs one database-layer call against the database that the
 * DB_* variables describe, on a read-only connection, and prints the
 * result as one JSON object.
 *   dbquery select SQL [MAX_ROWS]
 *   dbquery describe TABLE
 *   dbquery tables */
#include <string.h>

#include "config.h"
#include "db.h"

static int
print_error (const omcp_error *err)
{
  json_t *out = json_pack ("{s:b, s:i, s:s}", "success", 0, "errnum", err->errnum, "error",
                           err->message);
  json_dumpf (out, stdout, JSON_COMPACT);
  putchar ('\n');
  json_decref (out);
  return 1;
}

int
main (int argc, char **argv)
{
  struct omcp_config config;
  struct db_config dc = { 0 };
  db *conn = NULL;
  omcp_error err;
  json_t *out = NULL;

  if (argc < 2)
    {
      fprintf (stderr, "usage: dbquery select SQL [MAX_ROWS] | describe TABLE | tables\n");
      return 2;
    }
  if (config_load (&config, NULL, NULL, &err) < 0)
    return print_error (&err);
  dc.backend = strcmp (config.db_backend, "postgresql") == 0 ? DB_BACKEND_POSTGRESQL
                                                             : DB_BACKEND_SQLITE;
  dc.path = config.db_path;
  dc.host = config.db_host;
  dc.port = config.db_port;
  dc.user = config.db_user;
  dc.password = config.db_password;
  dc.name = config.db_name;
  dc.schema = config.db_schema;
  dc.timeout_ms = config.query_timeout_ms;
  if (db_open (&dc, true, &conn, &err) < 0)
    return print_error (&err);

  if (strcmp (argv[1], "select") == 0 && argc >= 3)
    {
      struct db_rows rows;
      size_t max_rows = argc > 3 ? (size_t) atol (argv[3]) : 1000;

      if (db_select (conn, argv[2], NULL, 0, max_rows, &rows, &err) < 0)
        goto fail;
      out = json_pack ("{s:b, s:O, s:O, s:b}", "success", 1, "columns", rows.columns, "rows",
                       rows.rows, "truncated", rows.truncated);
      db_rows_clear (&rows);
    }
  else if (strcmp (argv[1], "describe") == 0 && argc == 3)
    {
      json_t *columns;
      int64_t count;

      if (db_describe_table (conn, argv[2], &columns, &count, &err) < 0)
        goto fail;
      out = json_pack ("{s:b, s:o, s:I}", "success", 1, "columns", columns, "row_count",
                       (json_int_t) count);
    }
  else if (strcmp (argv[1], "tables") == 0)
    {
      json_t *tables;

      if (db_list_tables (conn, &tables, &err) < 0)
        goto fail;
      out = json_pack ("{s:b, s:o}", "success", 1, "schemas", tables);
    }
  else
    {
      fprintf (stderr, "dbquery: unknown command %s\n", argv[1]);
      db_close (conn);
      return 2;
    }
  json_dumpf (out, stdout, JSON_COMPACT);
  putchar ('\n');
  json_decref (out);
  db_close (conn);
  return 0;

fail:
  db_close (conn);
  return print_error (&err);
}
