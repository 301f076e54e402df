/* SQL for query_omop_table, built from checked CDM identifiers and bound
 * parameters only. */
#include "query_build.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define RAW_WHERE_DISABLED \
  "Raw WHERE clause is disabled. Use filters instead or set ALLOW_UNSAFE_SQL=true."

/* The filter operators and the SQL comparison of the simple ones. */
static const struct
{
  const char *name;
  const char *sql;      /* NULL: built by its own function */
} operators[] = {
  { "eq", "=" }, { "ne", "<>" }, { "lt", "<" }, { "le", "<=" }, { "gt", ">" }, { "ge", ">=" },
  { "like", "LIKE" }, { "in", NULL }, { "between", NULL }, { "is_null", NULL },
};

#define OPERATOR_LIST "eq, ne, lt, le, gt, ge, in, like, between, is_null"

/* Text that grows as the query is built. */
struct builder
{
  char *sql;
  size_t len, size;
  struct db_value *params;
  size_t n_params, params_size;
  query_placeholder_fn placeholder;
  void *userdata;
};

static void OMCP_PRINTF (2, 3)
append (struct builder *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  for (;;)
    {
      va_start (ap, fmt);
      n = vsnprintf (b->sql + b->len, b->size - b->len, fmt, ap);
      va_end (ap);
      if ((size_t) n < b->size - b->len)
        break;
      b->size = 2 * b->size + (size_t) n;
      b->sql = xrealloc (b->sql, b->size);
    }
  b->len += (size_t) n;
}

/* Append the placeholder of a new parameter holding VALUE. */
static void
append_param (struct builder *b, const struct db_value *value)
{
  char placeholder[16];

  if (b->n_params == b->params_size)
    {
      b->params_size = b->params_size ? 2 * b->params_size : 8;
      b->params = xrealloc (b->params, b->params_size * sizeof *b->params);
    }
  b->params[b->n_params++] = *value;
  b->placeholder (b->userdata, (unsigned) b->n_params, placeholder);
  append (b, "%s", placeholder);
}

void
query_plan_clear (struct query_plan *plan)
{
  free (plan->sql);
  free (plan->params);
  memset (plan, 0, sizeof *plan);
}

bool
query_identifier_valid (const char *name)
{
  const char *p;

  if (name == NULL || !(isalpha ((unsigned char) name[0]) || name[0] == '_'))
    return false;
  for (p = name + 1; *p; p++)
    if (!(isalnum ((unsigned char) *p) || *p == '_'))
      return false;
  /* isalpha and isalnum follow the C locale here, which omcp never
   * changes, so only ASCII letters pass. */
  return true;
}

const struct cdm_table *
query_find_table (const char *name, omcp_error *err)
{
  const struct cdm_table *table = NULL;

  if (query_identifier_valid (name))
    table = cdm_find_table (name);
  if (table == NULL)
    omcp_error_set_kind (err, EINVAL, "Invalid table name: %.64s", name ? name : "");
  return table;
}

/* Round D down into int64_t range; the caller clamps it further. */
static int64_t
limit_from_double (double d)
{
  d = floor (d);
  if (d < -1e18)
    return -1;
  if (d > 1e18)
    return INT64_MAX;
  return (int64_t) d;
}

int64_t
query_clamp_limit (json_t *value, int64_t default_limit, int64_t max_rows)
{
  int64_t limit = default_limit;

  if (json_is_integer (value))
    limit = json_integer_value (value);
  else if (json_is_real (value))
    limit = limit_from_double (json_real_value (value));
  else if (json_is_string (value))
    {
      const char *s = json_string_value (value);
      char *end;
      double d;

      while (isspace ((unsigned char) *s))
        s++;
      d = strtod (s, &end);
      while (isspace ((unsigned char) *end))
        end++;
      /* "abc", "", "nan" and "inf" are not numbers of rows. */
      if (end != s && *end == '\0' && isfinite (d))
        limit = limit_from_double (d);
    }

  if (max_rows < 1)
    max_rows = 1;
  if (limit < 1)
    limit = 1;
  if (limit > max_rows)
    limit = max_rows;
  return limit;
}

/* ---- columns ---- */

static int
append_columns (struct builder *b, const struct cdm_table *table, json_t *columns, omcp_error *err)
{
  json_t *item;
  size_t i;

  if (columns == NULL || json_is_null (columns))
    {
      append (b, "*");
      return 0;
    }
  if (!json_is_array (columns))
    return omcp_error_set_kind (err, EINVAL, "columns must be an array of column names");
  if (json_array_size (columns) == 0)
    return omcp_error_set_kind (err, EINVAL,
                                "columns must name at least one column; omit it for all columns");

  json_array_foreach (columns, i, item)
    {
      const char *name = json_string_value (item);
      const struct cdm_column *column = NULL;

      if (!json_is_string (item))
        return omcp_error_set_kind (err, EINVAL, "columns[%zu] must be a string", i);
      if (query_identifier_valid (name))
        column = cdm_find_column (table, name);
      if (column == NULL)
        return omcp_error_set_kind (err, EINVAL, "Invalid column name: %.64s", name);
      append (b, "%s%s", i > 0 ? ", " : "", column->name);
    }
  return 0;
}

/* ---- filters ---- */

/* Convert a scalar JSON value into a parameter. Strings are borrowed. */
static bool
scalar_value (json_t *json, struct db_value *value)
{
  memset (value, 0, sizeof *value);
  switch (json_typeof (json))
    {
    case JSON_STRING:
      value->type = DB_VALUE_TEXT;
      value->text = json_string_value (json);
      return true;
    case JSON_INTEGER:
      value->type = DB_VALUE_INTEGER;
      value->integer = json_integer_value (json);
      return true;
    case JSON_REAL:
      value->type = DB_VALUE_REAL;
      value->real = json_real_value (json);
      return true;
    case JSON_TRUE:
    case JSON_FALSE:
      value->type = DB_VALUE_BOOL;
      value->boolean = json_is_true (json);
      return true;
    default:
      return false;
    }
}

static int
append_comparison (struct builder *b, const char *column, const char *op_name, const char *op_sql,
                   json_t *operand, omcp_error *err)
{
  struct db_value value;

  if (json_is_null (operand))
    return omcp_error_set_kind (err, EINVAL,
                                "Filter on %s: '%s' needs a value; use {\"is_null\": true} to "
                                "match NULL", column, op_name);
  if (!scalar_value (operand, &value))
    return omcp_error_set_kind (err, EINVAL,
                                "Filter on %s: '%s' needs a string, number or boolean", column,
                                op_name);
  if (strcmp (op_name, "like") == 0 && value.type != DB_VALUE_TEXT)
    return omcp_error_set_kind (err, EINVAL, "Filter on %s: 'like' needs a string pattern",
                                column);
  append (b, "%s %s ", column, op_sql);
  append_param (b, &value);
  return 0;
}

static int
append_in (struct builder *b, const char *column, json_t *operand, omcp_error *err)
{
  struct db_value value;
  json_t *item;
  size_t i;

  if (!json_is_array (operand) || json_array_size (operand) == 0)
    return omcp_error_set_kind (err, EINVAL, "Filter on %s: 'in' needs a non-empty array of values",
                                column);
  if (json_array_size (operand) > QUERY_MAX_IN_VALUES)
    return omcp_error_set_kind (err, EINVAL, "Filter on %s: 'in' takes at most %d values", column,
                                QUERY_MAX_IN_VALUES);

  append (b, "%s IN (", column);
  json_array_foreach (operand, i, item)
    {
      if (!scalar_value (item, &value))
        return omcp_error_set_kind (err, EINVAL,
                                    "Filter on %s: 'in' values must be strings, numbers or "
                                    "booleans", column);
      if (i > 0)
        append (b, ", ");
      append_param (b, &value);
    }
  append (b, ")");
  return 0;
}

static int
append_between (struct builder *b, const char *column, json_t *operand, omcp_error *err)
{
  struct db_value low, high;

  if (!json_is_array (operand) || json_array_size (operand) != 2
      || !scalar_value (json_array_get (operand, 0), &low)
      || !scalar_value (json_array_get (operand, 1), &high))
    return omcp_error_set_kind (err, EINVAL,
                                "Filter on %s: 'between' needs an array of two values, [low, high]",
                                column);
  append (b, "%s BETWEEN ", column);
  append_param (b, &low);
  append (b, " AND ");
  append_param (b, &high);
  return 0;
}

static int
append_filter (struct builder *b, const char *column, json_t *spec, omcp_error *err)
{
  const char *op_name;
  json_t *operand;
  size_t i;

  /* {"person_id": 5} is equality, {"death_date": null} is IS NULL. */
  if (json_is_null (spec))
    {
      append (b, "%s IS NULL", column);
      return 0;
    }
  if (!json_is_object (spec))
    return append_comparison (b, column, "eq", "=", spec, err);

  if (json_object_size (spec) != 1)
    return omcp_error_set_kind (err, EINVAL,
                                "Filter on %s must have exactly one operator (" OPERATOR_LIST ")",
                                column);
  op_name = json_object_iter_key (json_object_iter (spec));
  operand = json_object_iter_value (json_object_iter (spec));

  if (strcmp (op_name, "in") == 0)
    return append_in (b, column, operand, err);
  if (strcmp (op_name, "between") == 0)
    return append_between (b, column, operand, err);
  if (strcmp (op_name, "is_null") == 0)
    {
      if (!json_is_boolean (operand))
        return omcp_error_set_kind (err, EINVAL, "Filter on %s: 'is_null' needs true or false",
                                    column);
      append (b, "%s IS %sNULL", column, json_is_true (operand) ? "" : "NOT ");
      return 0;
    }
  for (i = 0; i < N_ELEMENTS (operators); i++)
    if (operators[i].sql != NULL && strcmp (op_name, operators[i].name) == 0)
      return append_comparison (b, column, op_name, operators[i].sql, operand, err);

  return omcp_error_set_kind (err, EINVAL,
                              "Filter on %s: unknown operator '%.32s'; use one of " OPERATOR_LIST,
                              column, op_name);
}

static int
append_filters (struct builder *b, const struct cdm_table *table, json_t *filters, bool *any,
                omcp_error *err)
{
  const char *key;
  json_t *spec;

  *any = false;
  if (filters == NULL || json_is_null (filters))
    return 0;
  if (!json_is_object (filters))
    return omcp_error_set_kind (err, EINVAL, "filters must be an object mapping columns to values");

  json_object_foreach (filters, key, spec)
    {
      const struct cdm_column *column = NULL;

      if (query_identifier_valid (key))
        column = cdm_find_column (table, key);
      if (column == NULL)
        return omcp_error_set_kind (err, EINVAL, "Invalid filter column: %.64s", key);
      append (b, *any ? " AND " : " WHERE ");
      if (append_filter (b, column->name, spec, err) < 0)
        return -1;
      *any = true;
    }
  return 0;
}

int
query_build_select (const struct query_request *request, query_placeholder_fn placeholder,
                    void *userdata, struct query_plan *out, omcp_error *err)
{
  struct builder b = { .placeholder = placeholder, .userdata = userdata };
  const struct cdm_table *table;
  bool any_filter;
  bool has_where = request->where != NULL && request->where[0] != '\0';

  table = query_find_table (request->table_name, err);
  if (table == NULL)
    return -1;
  if (has_where && !request->allow_raw_where)
    return omcp_error_set_kind (err, EACCES, RAW_WHERE_DISABLED);

  b.size = 256;
  b.sql = xmalloc (b.size);
  b.sql[0] = '\0';
  append (&b, "SELECT ");
  if (append_columns (&b, table, request->columns, err) < 0)
    goto fail;
  append (&b, " FROM " DB_CDM_SCHEMA ".%s", table->name);
  if (append_filters (&b, table, request->filters, &any_filter, err) < 0)
    goto fail;

  /* The raw text is wrapped in parentheses so that an OR in it cannot
   * escape the filters; db_select still checks the whole statement. */
  if (has_where)
    append (&b, "%s(%s)", any_filter ? " AND " : " WHERE ", request->where);

  /* Fetching one row more than the limit shows whether the result was cut. */
  append (&b, " LIMIT %lld", (long long) request->limit + 1);

  out->sql = b.sql;
  out->params = b.params;
  out->n_params = b.n_params;
  return 0;

fail:
  free (b.sql);
  free (b.params);
  return -1;
}
