/* The pure part of the fast-path query tools: identifier checks, filters
 * turned into SQL with bound parameters, and row limits. Needs no
 * database, so unit tests cover it directly. */
#ifndef OMCP_QUERY_BUILD_H
#define OMCP_QUERY_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cdm.h"
#include "db.h"
#include "util.h"

/* Largest number of values in one `in` filter. */
#define QUERY_MAX_IN_VALUES 1000

/* Writes the placeholder of parameter N (from 1) into BUF, as
 * db_placeholder does for a connection. */
typedef void (*query_placeholder_fn) (void *userdata, unsigned n, char buf[16]);

/* A SELECT on one CDM table, ready for db_select. The text values of
 * PARAMS point into the JSON arguments it was built from, which must
 * outlive it. */
struct query_plan
{
  char *sql;
  struct db_value *params;
  size_t n_params;
};

void query_plan_clear (struct query_plan *plan);

/* True when NAME matches [A-Za-z_][A-Za-z0-9_]*. */
bool query_identifier_valid (const char *name);

/* The CDM table called NAME, or NULL with "Invalid table name: NAME" in
 * ERR (errnum EINVAL) when NAME is not an identifier or no CDM table. */
const struct cdm_table *query_find_table (const char *name, omcp_error *err);

/* The row limit of a call: VALUE if it is a number (or a string holding
 * one), else DEFAULT_LIMIT, clamped to [1, MAX_ROWS]. A fraction is
 * rounded down. */
int64_t query_clamp_limit (json_t *value, int64_t default_limit, int64_t max_rows);

struct query_request
{
  const char *table_name;
  json_t *columns;        /* array of names, or NULL / JSON null for all */
  json_t *filters;        /* object, or NULL / JSON null */
  const char *where;      /* raw SQL condition, or NULL */
  bool allow_raw_where;   /* ALLOW_UNSAFE_SQL */
  int64_t limit;          /* already clamped */
};

/* Build "SELECT cols FROM omop_cdm.table WHERE ... LIMIT limit+1". Every
 * filter value becomes a bound parameter; only checked CDM identifiers
 * and numbers go into the text. A raw WHERE clause is rejected unless
 * ALLOW_RAW_WHERE; even then db_select checks the whole text against the
 * read-only policy. Errors have errnum EINVAL and name which argument is
 * wrong. */
int query_build_select (const struct query_request *request, query_placeholder_fn placeholder,
                        void *userdata, struct query_plan *out, omcp_error *err) OMCP_WUR;

#endif
