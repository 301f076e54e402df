/* Look-ups in the CDM table list. */
#include "cdm.h"

#include <strings.h>

const struct cdm_table *
cdm_find_table (const char *name)
{
  size_t i;

  for (i = 0; i < cdm_n_tables; i++)
    if (strcasecmp (cdm_tables[i].name, name) == 0)
      return &cdm_tables[i];
  return NULL;
}

const struct cdm_column *
cdm_find_column (const struct cdm_table *table, const char *name)
{
  size_t i;

  for (i = 0; i < table->n_columns; i++)
    if (strcasecmp (table->columns[i].name, name) == 0)
      return &table->columns[i];
  return NULL;
}
