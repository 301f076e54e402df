/* Streaming CSV reader on libcsv that reports each record with the
 * physical line where it starts. Fields are NUL-terminated; an empty field,
 * quoted or not, has length 0. A UTF-8 byte order mark at the start is
 * skipped. */
#ifndef OMCP_CSVREAD_H
#define OMCP_CSVREAD_H

#include <csv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Called for each record. Returning a negative value stops the reader. */
typedef int (*csv_record_fn) (void *userdata, int64_t line, char *const *fields,
                              const size_t *lengths, size_t n_fields);

struct csv_reader
{
  struct csv_parser parser;
  csv_record_fn on_record;
  void *userdata;

  int64_t line;            /* physical line of the next byte fed */
  int64_t record_line;     /* where the record being parsed started */
  bool record_open;
  bool record_started;     /* the open record has more than white space */
  bool at_start;           /* nothing fed yet: a BOM may follow */
  bool stopped;

  char *data;              /* the current record's fields, each NUL-terminated */
  size_t data_len, data_size;
  size_t *offsets, *lengths;
  char **fields;
  size_t n_fields, fields_size;
};

void csv_reader_init (struct csv_reader *reader, csv_record_fn on_record, void *userdata);
void csv_reader_free (struct csv_reader *reader);

/* Parse LEN more bytes. Fails on malformed CSV (a stray quote, an
 * unterminated quoted field) with the line in the message, or when the
 * callback stopped the reader (errnum ECANCELED). */
int csv_reader_feed (struct csv_reader *reader, const char *data, size_t len,
                     omcp_error *err) OMCP_WUR;

/* Parse the end of the input: the last record may lack a line end. */
int csv_reader_finish (struct csv_reader *reader, omcp_error *err) OMCP_WUR;

#endif
