/* The OMOP Common Data Model v5.4 as data: every table and column with its
 * type, whether it is required and whether it is the primary key. The
 * loaders, the DDL and the query tools' identifier checks read it. */
#ifndef OMCP_CDM_H
#define OMCP_CDM_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum cdm_type
{
  CDM_INTEGER,
  CDM_FLOAT,
  CDM_DATE,     /* YYYY-MM-DD */
  CDM_DATETIME, /* YYYY-MM-DD HH:MM:SS */
  CDM_TEXT,
};

struct cdm_column
{
  const char *name;       /* lower case */
  enum cdm_type type;
  unsigned max_length;    /* CDM_TEXT: varchar length, 0 for unbounded */
  bool required;
  bool primary_key;
};

struct cdm_table
{
  const char *name;       /* lower case */
  const struct cdm_column *columns;
  size_t n_columns;
};

extern const struct cdm_table cdm_tables[];
extern const size_t cdm_n_tables;

/* The table called NAME (compared without regard to case), or NULL. */
const struct cdm_table *cdm_find_table (const char *name);

/* The column of TABLE called NAME (compared without regard to case), or
 * NULL. */
const struct cdm_column *cdm_find_column (const struct cdm_table *table, const char *name);

#endif
