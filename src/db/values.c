/* Validation and normalisation of CSV text values by CDM column type. */
#include <math.h>
#include <string.h>

#include "db-internal.h"

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

/* Parse exactly N digits at S. */
static bool
digits (const char *s, int n, int *out)
{
  int value = 0, i;

  for (i = 0; i < n; i++)
    {
      if (!is_digit (s[i]))
        return false;
      value = value * 10 + (s[i] - '0');
    }
  *out = value;
  return true;
}

static int
days_in_month (int year, int month)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

  return month == 2 && leap ? 29 : days[month - 1];
}

/* YYYY-MM-DD at S (at least 10 bytes). */
static bool
parse_date (const char *s, int *year, int *month, int *day)
{
  return digits (s, 4, year) && s[4] == '-' && digits (s + 5, 2, month) && s[7] == '-'
         && digits (s + 8, 2, day) && *year >= 1 && *month >= 1 && *month <= 12 && *day >= 1
         && *day <= days_in_month (*year, *month);
}

/* YYYY-MM-DD, optionally followed by a space or T and HH:MM[:SS[.fff]] and
 * a zone (Z, +HH, +HHMM, +HH:MM). The result is YYYY-MM-DD HH:MM:SS in
 * UTC when a zone was given, else as written; fractions are dropped. */
static bool
parse_datetime (const char *s, size_t len, char *norm)
{
  int year, month, day, hour = 0, minute = 0, second = 0;
  size_t i = 10;

  if (len < 10 || !parse_date (s, &year, &month, &day))
    return false;
  if (len > 10)
    {
      if ((s[10] != ' ' && s[10] != 'T') || len < 16 || !digits (s + 11, 2, &hour) || s[13] != ':'
          || !digits (s + 14, 2, &minute) || hour > 23 || minute > 59)
        return false;
      i = 16;
      if (i < len && s[i] == ':')
        {
          if (i + 3 > len || !digits (s + i + 1, 2, &second) || second > 59)
            return false;
          i += 3;
          if (i < len && s[i] == '.')
            {
              i++;
              if (i >= len || !is_digit (s[i]))
                return false;
              while (i < len && is_digit (s[i]))
                i++;
            }
        }
      if (i < len && s[i] == 'Z')
        i++;
      else if (i < len && (s[i] == '+' || s[i] == '-'))
        {
          int sign = s[i] == '-' ? -1 : 1, zone_h, zone_m = 0;
          int64_t minutes;

          if (i + 3 > len || !digits (s + i + 1, 2, &zone_h) || zone_h > 23)
            return false;
          i += 3;
          if (i < len && s[i] == ':')
            i++;
          if (i < len)
            {
              if (i + 2 > len || !digits (s + i, 2, &zone_m) || zone_m > 59)
                return false;
              i += 2;
            }
          /* Local time minus the offset is UTC. */
          minutes = days_from_date (year, month, day) * 1440 + hour * 60 + minute
                    - sign * (zone_h * 60 + zone_m);
          date_from_days (minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440, &year, &month,
                           &day);
          minutes = ((minutes % 1440) + 1440) % 1440;
          hour = (int) (minutes / 60);
          minute = (int) (minutes % 60);
          if (year < 1 || year > 9999)
            return false;
        }
      if (i != len)
        return false;
    }
  snprintf (norm, 32, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second);
  return true;
}

static bool
parse_integer (const char *s, size_t len, int64_t *out)
{
  uint64_t value = 0, limit;
  bool negative = false;
  size_t i = 0;

  if (len > 0 && (s[0] == '-' || s[0] == '+'))
    negative = s[0] == '-', i = 1;
  if (i == len)
    return false;
  limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
  for (; i < len; i++)
    {
      if (!is_digit (s[i]))
        return false;
      if (value > (limit - (uint64_t) (s[i] - '0')) / 10)
        return false;
      value = value * 10 + (uint64_t) (s[i] - '0');
    }
  *out = negative ? (int64_t) (0 - value) : (int64_t) value;
  return true;
}

/* A decimal number: sign, digits with an optional point, exponent. No
 * hexadecimal, infinity or NaN, which PostgreSQL's numeric rejects. */
static bool
parse_real (const char *s, size_t len, double *out)
{
  char buf[64];
  char *end;
  size_t i;

  if (len == 0 || len >= sizeof buf)
    return false;
  for (i = 0; i < len; i++)
    if (!is_digit (s[i]) && !strchr ("+-.eE", s[i]))
      return false;
  memcpy (buf, s, len);
  buf[len] = '\0';
  *out = strtod (buf, &end);
  return *end == '\0' && isfinite (*out);
}

/* Number of code points of valid UTF-8 TEXT, or -1. Rejects NUL bytes,
 * which no database stores in text. */
static int64_t
utf8_length (const unsigned char *s, size_t len)
{
  int64_t n = 0;
  size_t i = 0;

  while (i < len)
    {
      unsigned char c = s[i];
      size_t extra, k;
      uint32_t cp;

      if (c == 0)
        return -1;
      if (c < 0x80)
        extra = 0, cp = c;
      else if ((c & 0xe0) == 0xc0)
        extra = 1, cp = c & 0x1f;
      else if ((c & 0xf0) == 0xe0)
        extra = 2, cp = c & 0x0f;
      else if ((c & 0xf8) == 0xf0)
        extra = 3, cp = c & 0x07;
      else
        return -1;
      if (i + extra >= len)
        return -1;
      for (k = 1; k <= extra; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return -1;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      /* Overlong forms, surrogates and values past U+10FFFF. */
      if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)
          || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return -1;
      i += extra + 1;
      n++;
    }
  return n;
}

/* Quote at most 40 bytes of a value for a message. */
static void
excerpt (const char *text, size_t len, char *buf, size_t size)
{
  size_t n = len < 40 ? len : 40, i, j = 0;

  for (i = 0; i < n && j + 5 < size; i++)
    buf[j++] = (text[i] >= 0x20 && text[i] != 0x7f) ? text[i] : '?';
  if (n < len && j + 4 < size)
    buf[j++] = '.', buf[j++] = '.', buf[j++] = '.';
  buf[j] = '\0';
}

enum value_status
cdm_value_parse (const struct cdm_column *column, const char *text, size_t len, char *norm,
                 struct load_value *out, char *reason)
{
  char shown[64];
  int year, month, day;
  int64_t chars;

  memset (out, 0, sizeof *out);
  out->text = text;
  out->len = len;
  if (len == 0)
    {
      out->null = true;
      if (column->required)
        {
          snprintf (reason, 256, "column %s is required but empty", column->name);
          return VALUE_INVALID;
        }
      return VALUE_NULL;
    }

  excerpt (text, len, shown, sizeof shown);
  switch (column->type)
    {
    case CDM_INTEGER:
      if (parse_integer (text, len, &out->integer))
        return VALUE_OK;
      snprintf (reason, 256, "column %s: '%s' is not an integer", column->name, shown);
      return VALUE_INVALID;

    case CDM_FLOAT:
      if (parse_real (text, len, &out->real))
        return VALUE_OK;
      snprintf (reason, 256, "column %s: '%s' is not a number", column->name, shown);
      return VALUE_INVALID;

    case CDM_DATE:
      if (len == 10 && parse_date (text, &year, &month, &day))
        return VALUE_OK;
      /* Many exports write dates as datetimes at midnight. Any other time
       * would be lost, so it is an error. */
      if (len > 10 && parse_datetime (text, len, norm) && strcmp (norm + 10, " 00:00:00") == 0)
        {
          norm[10] = '\0';
          out->text = norm;
          out->len = 10;
          return VALUE_OK;
        }
      snprintf (reason, 256, "column %s: '%s' is not a valid date (expected YYYY-MM-DD)",
                column->name, shown);
      return VALUE_INVALID;

    case CDM_DATETIME:
      if (parse_datetime (text, len, norm))
        {
          out->text = norm;
          out->len = 19;
          return VALUE_OK;
        }
      snprintf (reason, 256,
                "column %s: '%s' is not a valid datetime (expected YYYY-MM-DD HH:MM:SS)",
                column->name, shown);
      return VALUE_INVALID;

    case CDM_TEXT:
      chars = utf8_length ((const unsigned char *) text, len);
      if (chars < 0)
        {
          snprintf (reason, 256, "column %s: '%s' is not valid UTF-8 text", column->name, shown);
          return VALUE_INVALID;
        }
      if (column->max_length && chars > column->max_length)
        {
          snprintf (reason, 256, "column %s: '%s' has %lld characters, more than the %u allowed",
                    column->name, shown, (long long) chars, column->max_length);
          return VALUE_INVALID;
        }
      return VALUE_OK;
    }
  return VALUE_INVALID;
}
