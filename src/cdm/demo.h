/* A small synthetic OMOP CDM v5.4 for demonstrations and tests: 193
 * concepts and 300 invented persons with observation periods,
 * visits, conditions, drug exposures, measurements and a few deaths. The
 * generator draws from a fixed-seed PRNG and never reads the clock, so
 * every run writes the same bytes. */
#ifndef OMCP_CDM_DEMO_H
#define OMCP_CDM_DEMO_H

#include <stdint.h>

#include "util.h"

/* Number of tables demo_write_csv writes. */
#define DEMO_N_TABLES 9

/* The tables demo_write_csv writes, in the order it writes them. */
extern const char *const demo_tables[DEMO_N_TABLES];

struct demo_table_rows
{
  const char *table; /* CDM table name, also the file name without ".csv" */
  int64_t rows;
};

/* Write one <table>.csv per table into the directory DIRFD, replacing
 * files of the same names: lower-case OMOP headers with every column of
 * the table in CDM order, empty fields for NULL, dates as YYYY-MM-DD and
 * datetimes as YYYY-MM-DD HH:MM:SS. ROWS receives the number of data rows
 * of each table, in the order written. Fails with errno of the first
 * failed open or write. */
int demo_write_csv (int dirfd, struct demo_table_rows rows[DEMO_N_TABLES], omcp_error *err) OMCP_WUR;

#endif
