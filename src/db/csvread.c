/* CSV reading on libcsv, fed one physical line at a time so that every
 * record carries the line where it starts. */
#include <string.h>

#include "csvread.h"

static void
on_field (void *text, size_t len, void *userdata)
{
  struct csv_reader *r = userdata;

  if (r->stopped)
    return;
  if (r->data_len + len + 1 > r->data_size)
    {
      r->data_size = (r->data_len + len + 1) * 2;
      r->data = xrealloc (r->data, r->data_size);
    }
  if (r->n_fields == r->fields_size)
    {
      r->fields_size = r->fields_size ? r->fields_size * 2 : 32;
      r->offsets = xrealloc (r->offsets, r->fields_size * sizeof *r->offsets);
      r->lengths = xrealloc (r->lengths, r->fields_size * sizeof *r->lengths);
      r->fields = xrealloc (r->fields, r->fields_size * sizeof *r->fields);
    }
  if (len)
    memcpy (r->data + r->data_len, text, len);
  r->data[r->data_len + len] = '\0';
  r->offsets[r->n_fields] = r->data_len;
  r->lengths[r->n_fields] = len;
  r->n_fields++;
  r->data_len += len + 1;
}

static void
on_record_end (int terminator, void *userdata)
{
  struct csv_reader *r = userdata;
  size_t i;

  (void) terminator;
  if (!r->stopped)
    {
      /* Pointers only now: DATA may have moved while the record grew. */
      for (i = 0; i < r->n_fields; i++)
        r->fields[i] = r->data + r->offsets[i];
      if (r->on_record (r->userdata, r->record_line, r->fields, r->lengths, r->n_fields) < 0)
        r->stopped = true;
    }
  r->n_fields = 0;
  r->data_len = 0;
  r->record_open = false;
  r->record_started = false;
}

/* True when the bytes are only a line end, which libcsv skips between
 * records. */
static bool
is_blank (const char *data, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (data[i] != '\r' && data[i] != '\n')
      return false;
  return true;
}

static int
no_space (unsigned char c)
{
  (void) c;
  return 0;
}

void
csv_reader_init (struct csv_reader *reader, csv_record_fn on_record, void *userdata)
{
  memset (reader, 0, sizeof *reader);
  /* Strict: a quote inside an unquoted field, or text after a closing
   * quote, is an error rather than a guess. */
  if (csv_init (&reader->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
    abort ();
  /* Spaces and tabs belong to the field (RFC 4180); libcsv trims them from
   * unquoted fields by default. */
  csv_set_space_func (&reader->parser, no_space);
  reader->on_record = on_record;
  reader->userdata = userdata;
  reader->line = 1;
  reader->at_start = true;
}

void
csv_reader_free (struct csv_reader *reader)
{
  csv_free (&reader->parser);
  free (reader->data);
  free (reader->offsets);
  free (reader->lengths);
  free (reader->fields);
}

static int
parse_error (struct csv_reader *r, omcp_error *err)
{
  return omcp_error_set_kind (err, EINVAL, "line %lld: malformed CSV (%s): quote characters "
                              "must enclose a whole field, and a quote inside one is written twice",
                              (long long) r->line, csv_strerror (csv_error (&r->parser)));
}

int
csv_reader_feed (struct csv_reader *r, const char *data, size_t len, omcp_error *err)
{
  const char *end = data + len;

  if (r->at_start && len > 0)
    {
      r->at_start = false;
      if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        data += 3;
    }

  while (data < end && !r->stopped)
    {
      const char *newline = memchr (data, '\n', (size_t) (end - data));
      size_t n = newline ? (size_t) (newline - data) + 1 : (size_t) (end - data);

      if (!r->record_open)
        {
          r->record_line = r->line;
          r->record_open = true;
        }
      if (csv_parse (&r->parser, data, n, on_field, on_record_end, r) != n)
        return parse_error (r, err);
      if (r->record_open && !is_blank (data, n))
        r->record_started = true;
      if (newline)
        {
          r->line++;
          /* libcsv skips a blank line outside a record, so the next
           * record starts on a later line. */
          if (r->record_open && !r->record_started)
            r->record_open = false;
        }
      data += n;
    }
  if (r->stopped)
    return omcp_error_set_kind (err, ECANCELED, "reading stopped at line %lld",
                                (long long) r->record_line);
  return 0;
}

int
csv_reader_finish (struct csv_reader *r, omcp_error *err)
{
  if (r->stopped)
    return omcp_error_set_kind (err, ECANCELED, "reading stopped at line %lld",
                                (long long) r->record_line);
  if (csv_fini (&r->parser, on_field, on_record_end, r) != 0)
    return omcp_error_set_kind (err, EINVAL,
                                "line %lld: malformed CSV: a quoted field is never closed",
                                (long long) r->record_line);
  if (r->stopped)
    return omcp_error_set_kind (err, ECANCELED, "reading stopped at line %lld",
                                (long long) r->record_line);
  return 0;
}
