/* CREATE TABLE and CREATE INDEX statements of the CDM, generated from the
 * table list in src/cdm. Foreign keys are not declared: real CDM exports
 * refer to concepts and rows they do not ship. */
#include <string.h>

#include "db-internal.h"
#include "load.h"
#include "log.h"

/* Concept columns indexed besides every person_id and visit_occurrence_id:
 * the columns that analyses filter and group by. */
static const struct
{
  const char *table;
  const char *column;
} concept_indexes[] = {
  { "visit_occurrence", "visit_concept_id" },
  { "visit_detail", "visit_detail_concept_id" },
  { "condition_occurrence", "condition_concept_id" },
  { "drug_exposure", "drug_concept_id" },
  { "procedure_occurrence", "procedure_concept_id" },
  { "device_exposure", "device_concept_id" },
  { "measurement", "measurement_concept_id" },
  { "observation", "observation_concept_id" },
  { "specimen", "specimen_concept_id" },
  { "condition_era", "condition_concept_id" },
  { "drug_era", "drug_concept_id" },
  { "dose_era", "drug_concept_id" },
  { "concept_relationship", "concept_id_1" },
  { "concept_relationship", "concept_id_2" },
  { "concept_ancestor", "ancestor_concept_id" },
  { "concept_ancestor", "descendant_concept_id" },
  { "concept_synonym", "concept_id" },
  { "drug_strength", "drug_concept_id" },
};

static bool
ends_with (const char *s, const char *suffix)
{
  size_t len = strlen (s), n = strlen (suffix);

  return len >= n && strcmp (s + len - n, suffix) == 0;
}

const char *
cdm_column_sql_type (enum db_backend backend, const struct cdm_column *column, char buf[32])
{
  if (backend == DB_BACKEND_SQLITE)
    switch (column->type)
      {
      case CDM_INTEGER:
        return "INTEGER";
      case CDM_FLOAT:
        return "REAL";
      default:
        /* Dates and datetimes as ISO text, which sorts and compares in
         * time order. */
        return "TEXT";
      }

  switch (column->type)
    {
    case CDM_INTEGER:
      /* Identifiers and concept ids pass 2^31 in large CDMs; counts and
       * calendar parts stay integer. */
      return ends_with (column->name, "_id") || strncmp (column->name, "concept_id", 10) == 0
               ? "bigint"
               : "integer";
    case CDM_FLOAT:
      return "numeric";
    case CDM_DATE:
      return "date";
    case CDM_DATETIME:
      return "timestamp";
    case CDM_TEXT:
      if (column->max_length == 0)
        return "text";
      snprintf (buf, 32, "varchar(%u)", column->max_length);
      return buf;
    }
  return "text";
}

static bool
column_is_indexed (const struct cdm_table *table, const struct cdm_column *column)
{
  size_t i;

  if (column->primary_key)
    return false;
  if (strcmp (column->name, "person_id") == 0 || strcmp (column->name, "visit_occurrence_id") == 0)
    return true;
  for (i = 0; i < N_ELEMENTS (concept_indexes); i++)
    if (strcmp (concept_indexes[i].table, table->name) == 0
        && strcmp (concept_indexes[i].column, column->name) == 0)
      return true;
  return false;
}

/* Append to a growing string. */
static void
append (char **text, size_t *len, const char *fmt, ...) OMCP_PRINTF (3, 4);

static void
append (char **text, size_t *len, const char *fmt, ...)
{
  va_list ap;
  char *piece;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&piece, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  *text = xrealloc (*text, *len + (size_t) n + 1);
  memcpy (*text + *len, piece, (size_t) n + 1);
  *len += (size_t) n;
  free (piece);
}

char *
cdm_table_ddl (enum db_backend backend, const char *schema, const struct cdm_table *table)
{
  bool sqlite = backend == DB_BACKEND_SQLITE;
  char *text = NULL;
  size_t len = 0, i, n_keys = 0;
  char buf[32];

  /* Column names are quoted because some are keywords (note_nlp.offset). */
  append (&text, &len, "CREATE TABLE IF NOT EXISTS %s.%s (\n", schema, table->name);
  for (i = 0; i < table->n_columns; i++)
    {
      const struct cdm_column *c = &table->columns[i];

      append (&text, &len, "  \"%s\" %s%s,\n", c->name, cdm_column_sql_type (backend, c, buf),
              c->required ? " NOT NULL" : "");
      n_keys += c->primary_key;
    }
  if (n_keys > 0)
    {
      const char *separator = "";

      append (&text, &len, "  PRIMARY KEY (");
      for (i = 0; i < table->n_columns; i++)
        if (table->columns[i].primary_key)
          {
            append (&text, &len, "%s\"%s\"", separator, table->columns[i].name);
            separator = ", ";
          }
      append (&text, &len, ")\n");
    }
  else
    {
      /* Drop the comma after the last column. */
      len -= 2;
      append (&text, &len, "\n");
    }
  /* STRICT makes SQLite reject a value of the wrong type, as PostgreSQL
   * does. */
  append (&text, &len, ")%s;\n", sqlite ? " STRICT" : "");

  for (i = 0; i < table->n_columns; i++)
    {
      const struct cdm_column *c = &table->columns[i];

      if (!column_is_indexed (table, c))
        continue;
      if (sqlite)
        append (&text, &len, "CREATE INDEX IF NOT EXISTS %s.idx_%s_%s ON %s (\"%s\");\n", schema,
                table->name, c->name, table->name, c->name);
      else
        append (&text, &len, "CREATE INDEX IF NOT EXISTS idx_%s_%s ON %s.%s (\"%s\");\n", table->name,
                c->name, schema, table->name, c->name);
    }
  return text;
}

int
cdm_create_schema (db *conn, omcp_error *err)
{
  char *text = NULL;
  size_t len = 0, i;
  int ret;

  /* Table and schema names are CDM constants or DB_SCHEMA, which db_open
   * accepts only as a plain lower-case identifier. */
  append (&text, &len, "BEGIN;\n");
  if (conn->backend == DB_BACKEND_POSTGRESQL)
    append (&text, &len, "CREATE SCHEMA IF NOT EXISTS %s;\n", conn->schema);
  for (i = 0; i < cdm_n_tables; i++)
    {
      cleanup_free char *ddl = NULL;

      ddl = cdm_table_ddl (conn->backend, conn->schema, &cdm_tables[i]);
      append (&text, &len, "%s", ddl);
    }
  append (&text, &len, "COMMIT;\n");
  ret = db_exec (conn, text, err);
  free (text);
  if (ret < 0)
    {
      omcp_error ignored;

      /* Fails harmlessly when the error already ended the transaction. */
      if (db_exec (conn, "ROLLBACK", &ignored) < 0)
        log_debug ("db", "rollback after a failed CREATE TABLE: %s", ignored.message);
      return omcp_error_prefix (err, "create the CDM tables");
    }
  return 0;
}
