/* Creating the CDM tables and loading OMOP CSV files into them, on either
 * backend. Used by `omcp cdm init`, `omcp cdm load`, `omcp demo-data` and
 * the admin tools. */
#ifndef OMCP_DB_LOAD_H
#define OMCP_DB_LOAD_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* Create every CDM v5.4 table that does not exist yet, with its primary
 * key and the usual indexes, without enforced foreign keys. DB must be
 * writable. */
int cdm_create_schema (db *db, omcp_error *err) OMCP_WUR;

struct load_callbacks
{
  /* Called now and then while TABLE loads, and once when it is done. */
  void (*on_progress) (void *userdata, const char *table, int64_t rows, double elapsed_s,
                       bool done);
  /* Called for every rejected row or file; LINE is 0 for a whole file. */
  void (*on_reject) (void *userdata, const char *file, int64_t line, const char *reason);
  void *userdata;
};

struct load_summary
{
  int64_t rows_loaded;
  int64_t rows_rejected;
  size_t files_loaded;
  size_t files_failed;
  double seconds;
  /* [{"table", "file", "rows", "loaded": bool, "error"?}] in load order */
  json_t *tables;
};

void load_summary_clear (struct load_summary *summary);

/* Load PATH, a directory or a .zip of OMOP CSV files named after their
 * tables in any case, each table in one transaction: a file with any
 * rejected row loads nothing. Creates missing tables first. Returns 0 when
 * every file loaded, -1 otherwise. SUMMARY is filled either way, and ERR
 * describes the first failure. */
int cdm_load_path (db *db, const char *path, const struct load_callbacks *callbacks,
                   struct load_summary *summary, omcp_error *err) OMCP_WUR;

#endif
