/* Unit tests for the demo CDM generator: the files it writes are valid
 * OMOP CSV (headers, field counts, types, required fields, references to
 * persons and concepts) and the same bytes on every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <csv.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cdm.h"
#include "demo.h"
#include "util.h"

/* Persons the generator writes; the tests check the count. */
#define EXPECTED_PERSONS 300

struct output
{
  char dir[64];
  int dirfd;
  struct demo_table_rows rows[DEMO_N_TABLES];
};

static void
output_write (struct output *out)
{
  omcp_error err;

  strcpy (out->dir, "/tmp/omcp-test-demo-XXXXXX");
  assert_non_null (mkdtemp (out->dir));
  out->dirfd = open (out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (out->dirfd >= 0);
  if (demo_write_csv (out->dirfd, out->rows, &err) < 0)
    fail_msg ("demo_write_csv: %s", err.message);
}

static void
output_remove (struct output *out)
{
  size_t i;

  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      char name[64];

      snprintf (name, sizeof name, "%s.csv", out->rows[i].table);
      unlinkat (out->dirfd, name, 0);
    }
  close (out->dirfd);
  rmdir (out->dir);
}

static int64_t
table_rows (const struct output *out, const char *table)
{
  size_t i;

  for (i = 0; i < DEMO_N_TABLES; i++)
    if (strcmp (out->rows[i].table, table) == 0)
      return out->rows[i].rows;
  fail_msg ("no table %s", table);
  return -1;
}

/* A parsed CSV file: FIELDS[record][column], NULL for an empty field. */
struct parsed
{
  char ***records;
  size_t n_records;
  size_t n_fields;   /* of the record being parsed */
  size_t max_fields;
};

static void
parsed_field (void *s, size_t len, void *data)
{
  struct parsed *p = data;
  char **record;

  (void) len;
  if (p->n_fields == 0)
    {
      p->records = xrealloc (p->records, (p->n_records + 1) * sizeof *p->records);
      p->records[p->n_records] = xcalloc (p->max_fields + 1, sizeof (char *));
    }
  record = p->records[p->n_records];
  assert_true (p->n_fields < p->max_fields + 1);
  record[p->n_fields++] = s ? xstrdup (s) : NULL;
}

static void
parsed_record (int c, void *data)
{
  struct parsed *p = data;

  (void) c;
  /* One more than the header's columns would have overflowed above. */
  assert_int_equal (p->n_fields, p->max_fields);
  p->n_records++;
  p->n_fields = 0;
}

/* Parse TABLE.csv of OUT with libcsv in strict mode. */
static void
parse_table (const struct output *out, const struct cdm_table *table, struct parsed *p)
{
  char name[64];
  struct csv_parser parser;
  size_t len;
  char *text;

  snprintf (name, sizeof name, "%s.csv", table->name);
  text = read_file_at (out->dirfd, name, &len);
  assert_non_null (text);
  memset (p, 0, sizeof *p);
  p->max_fields = table->n_columns;
  assert_int_equal (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL
                                         | CSV_EMPTY_IS_NULL), 0);
  assert_int_equal (csv_parse (&parser, text, len, parsed_field, parsed_record, p), len);
  assert_int_equal (csv_fini (&parser, parsed_field, parsed_record, p), 0);
  csv_free (&parser);
  assert_true (len > 0 && text[len - 1] == '\n');
  free (text);
}

static void
parsed_free (struct parsed *p)
{
  size_t i, j;

  for (i = 0; i < p->n_records; i++)
    {
      for (j = 0; j < p->max_fields; j++)
        free (p->records[i][j]);
      free (p->records[i]);
    }
  free (p->records);
}

/* True when TEXT matches the extended regular expression PATTERN. Every
 * pattern stays compiled, because the tests check every field of
 * every file against one of four. */
static bool
matches (const char *pattern, const char *text)
{
  static struct
  {
    const char *pattern;
    regex_t re;
  } cache[8];
  size_t i;

  for (i = 0; i < N_ELEMENTS (cache) && cache[i].pattern; i++)
    if (strcmp (cache[i].pattern, pattern) == 0)
      break;
  assert_true (i < N_ELEMENTS (cache));
  if (cache[i].pattern == NULL)
    {
      assert_int_equal (regcomp (&cache[i].re, pattern, REG_EXTENDED | REG_NOSUB), 0);
      cache[i].pattern = pattern;
    }
  return regexec (&cache[i].re, text, 0, NULL, 0) == 0;
}

static void
demo_same_bytes_every_run (void **state)
{
  struct output a, b;
  size_t i;

  (void) state;
  output_write (&a);
  output_write (&b);
  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      char name[64];
      size_t len_a, len_b;
      char *text_a, *text_b;

      snprintf (name, sizeof name, "%s.csv", a.rows[i].table);
      text_a = read_file_at (a.dirfd, name, &len_a);
      text_b = read_file_at (b.dirfd, name, &len_b);
      assert_non_null (text_a);
      assert_non_null (text_b);
      assert_int_equal (len_a, len_b);
      assert_memory_equal (text_a, text_b, len_a);
      assert_int_equal (a.rows[i].rows, b.rows[i].rows);
      free (text_a);
      free (text_b);
    }
  output_remove (&a);
  output_remove (&b);
}

/* Headers, field counts, required fields and the text form of every
 * value match the CDM's column list. */
static void
demo_files_match_cdm_columns (void **state)
{
  struct output out;
  size_t i, r, c;

  (void) state;
  output_write (&out);
  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      const struct cdm_table *table = cdm_find_table (out.rows[i].table);
      struct parsed p;

      assert_non_null (table);
      parse_table (&out, table, &p);
      assert_int_equal (p.n_records, out.rows[i].rows + 1);
      assert_true (out.rows[i].rows > 0);
      for (c = 0; c < table->n_columns; c++)
        assert_string_equal (p.records[0][c], table->columns[c].name);

      for (r = 1; r < p.n_records; r++)
        for (c = 0; c < table->n_columns; c++)
          {
            const struct cdm_column *column = &table->columns[c];
            const char *value = p.records[r][c];

            if (value == NULL)
              {
                if (column->required)
                  fail_msg ("%s line %zu: required %s is empty", table->name, r + 1, column->name);
                continue;
              }
            switch (column->type)
              {
              case CDM_INTEGER:
                assert_true (matches ("^-?[0-9]+$", value));
                break;
              case CDM_FLOAT:
                assert_true (matches ("^-?[0-9]+(\\.[0-9]+)?$", value));
                break;
              case CDM_DATE:
                assert_true (matches ("^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
                                      value));
                break;
              case CDM_DATETIME:
                assert_true (matches ("^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) "
                                      "([01][0-9]|2[0-3]):[0-5][0-9]:00$",
                                      value));
                break;
              case CDM_TEXT:
                if (column->max_length)
                  assert_true (strlen (value) <= column->max_length);
                break;
              }
          }
      parsed_free (&p);
    }
  output_remove (&out);
}

/* The index of COLUMN in TABLE. */
static size_t
column_index (const char *table, const char *column)
{
  const struct cdm_table *t = cdm_find_table (table);
  const struct cdm_column *c = cdm_find_column (t, column);

  assert_non_null (c);
  return (size_t) (c - t->columns);
}

static bool
id_in (const struct parsed *p, size_t column, const char *id)
{
  size_t r;

  for (r = 1; r < p->n_records; r++)
    if (p->records[r][column] && strcmp (p->records[r][column], id) == 0)
      return true;
  return false;
}

/* Every person id refers to a person, and every *_concept_id to a concept
 * of the concept table. cdm_source is left out: its CDM version concept
 * belongs to the metadata vocabulary, which the demo does not ship. */
static void
demo_references_resolve (void **state)
{
  struct output out;
  struct parsed persons, concepts;
  size_t i, r, c;

  (void) state;
  output_write (&out);
  parse_table (&out, cdm_find_table ("person"), &persons);
  parse_table (&out, cdm_find_table ("concept"), &concepts);
  assert_int_equal (persons.n_records - 1, EXPECTED_PERSONS);

  for (i = 0; i < DEMO_N_TABLES; i++)
    {
      const struct cdm_table *table = cdm_find_table (out.rows[i].table);
      struct parsed p;

      if (strcmp (table->name, "concept") == 0 || strcmp (table->name, "cdm_source") == 0)
        continue;
      parse_table (&out, table, &p);
      for (c = 0; c < table->n_columns; c++)
        {
          const char *name = table->columns[c].name;
          size_t len = strlen (name);
          bool is_person = strcmp (name, "person_id") == 0 && strcmp (table->name, "person") != 0;
          bool is_concept = len > 11 && strcmp (name + len - 11, "_concept_id") == 0;

          if (!is_person && !is_concept)
            continue;
          for (r = 1; r < p.n_records; r++)
            {
              const char *value = p.records[r][c];

              if (value == NULL)
                continue;
              if (is_person && !id_in (&persons, column_index ("person", "person_id"), value))
                fail_msg ("%s line %zu: no person %s", table->name, r + 1, value);
              if (is_concept && !id_in (&concepts, column_index ("concept", "concept_id"), value))
                fail_msg ("%s line %zu: %s %s is not in concept.csv", table->name, r + 1, name,
                          value);
            }
        }
      parsed_free (&p);
    }
  parsed_free (&persons);
  parsed_free (&concepts);
  output_remove (&out);
}

/* The data has what the demo's questions need: a few deaths, measurements
 * without a value, type 2 diabetes and HbA1c results. */
static void
demo_contains_demo_cases (void **state)
{
  struct output out;
  struct parsed measurements, conditions;
  size_t value = column_index ("measurement", "value_as_number");
  size_t meas_concept = column_index ("measurement", "measurement_concept_id");
  size_t cond_concept = column_index ("condition_occurrence", "condition_concept_id");
  size_t r, no_value = 0, hba1c = 0, diabetes = 0;

  (void) state;
  output_write (&out);
  assert_int_equal (table_rows (&out, "person"), EXPECTED_PERSONS);
  assert_int_equal (table_rows (&out, "observation_period"), EXPECTED_PERSONS);
  assert_int_equal (table_rows (&out, "cdm_source"), 1);
  assert_true (table_rows (&out, "concept") >= 150);
  assert_true (table_rows (&out, "death") >= 3);
  assert_true (table_rows (&out, "death") <= EXPECTED_PERSONS / 10);

  parse_table (&out, cdm_find_table ("measurement"), &measurements);
  for (r = 1; r < measurements.n_records; r++)
    {
      if (measurements.records[r][value] == NULL)
        no_value++;
      if (strcmp (measurements.records[r][meas_concept], "3004410") == 0)
        hba1c++;
    }
  parse_table (&out, cdm_find_table ("condition_occurrence"), &conditions);
  for (r = 1; r < conditions.n_records; r++)
    if (strcmp (conditions.records[r][cond_concept], "201826") == 0)
      diabetes++;

  assert_true (no_value > 0);
  assert_true (no_value < measurements.n_records / 10);
  assert_true (hba1c >= 100);
  assert_true (diabetes >= 20);
  parsed_free (&measurements);
  parsed_free (&conditions);
  output_remove (&out);
}

/* A descriptor that is not a directory: the first file cannot be
 * created, and the error names it. */
static void
demo_unwritable_directory_fails (void **state)
{
  struct demo_table_rows rows[DEMO_N_TABLES];
  omcp_error err;
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  (void) state;
  assert_true (fd >= 0);
  assert_int_equal (demo_write_csv (fd, rows, &err), -1);
  assert_int_equal (err.errnum, ENOTDIR);
  assert_non_null (strstr (err.message, "concept.csv"));
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (demo_same_bytes_every_run),
    cmocka_unit_test (demo_files_match_cdm_columns),
    cmocka_unit_test (demo_references_resolve),
    cmocka_unit_test (demo_contains_demo_cases),
    cmocka_unit_test (demo_unwritable_directory_fails),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
