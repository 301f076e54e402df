#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

static int
error_vformat (omcp_error *err, int errnum, const char *fmt, va_list ap)
{
  size_t used;

  if (err == NULL)
    return -1;
  err->errnum = errnum;
  vsnprintf (err->message, sizeof err->message, fmt, ap);
  if (errnum != 0)
    {
      used = strlen (err->message);
      snprintf (err->message + used, sizeof err->message - used, ": %s", strerror (errnum));
    }
  return -1;
}

int
omcp_error_set (omcp_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  error_vformat (err, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
omcp_error_set_kind (omcp_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  error_vformat (err, 0, fmt, ap);
  va_end (ap);
  if (err)
    err->errnum = errnum;
  return -1;
}

int
omcp_error_prefix (omcp_error *err, const char *fmt, ...)
{
  char joined[sizeof err->message];
  size_t used;
  va_list ap;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (joined, sizeof joined, fmt, ap);
  va_end (ap);
  used = strlen (joined);
  if (used + 2 < sizeof joined)
    {
      memcpy (joined + used, ": ", 2);
      used += 2;
      copy_string (joined + used, sizeof joined - used, err->message);
    }
  memcpy (err->message, joined, sizeof joined);
  return -1;
}

static void __attribute__ ((noreturn))
out_of_memory (void)
{
  static const char msg[] = "omcp: out of memory\n";

  (void) !write (STDERR_FILENO, msg, sizeof msg - 1);
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);

  if (p == NULL)
    out_of_memory ();
  return p;
}

void *
xcalloc (size_t count, size_t size)
{
  void *p = calloc (count ? count : 1, size ? size : 1);

  if (p == NULL)
    out_of_memory ();
  return p;
}

void *
xrealloc (void *ptr, size_t size)
{
  void *p = realloc (ptr, size ? size : 1);

  if (p == NULL)
    out_of_memory ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);

  if (p == NULL)
    out_of_memory ();
  return p;
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = strndup (s, n);

  if (p == NULL)
    out_of_memory ();
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  char *p = NULL;
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = vasprintf (&p, fmt, ap);
  va_end (ap);
  if (ret < 0)
    out_of_memory ();
  return p;
}

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = TEMP_FAILURE_RETRY (write (fd, p, len));
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

char *
read_file_at (int dirfd, const char *path, size_t *len_out)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 4096;

  fd = TEMP_FAILURE_RETRY (openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd < 0)
    return NULL;

  buf = xmalloc (cap);
  for (;;)
    {
      ssize_t n;

      if (cap - len < 2)
        {
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      n = TEMP_FAILURE_RETRY (read (fd, buf + len, cap - len - 1));
      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  return steal_pointer (&buf);
}

int
write_file_at (int dirfd, const char *path, const char *str)
{
  cleanup_close int fd = -1;

  fd = TEMP_FAILURE_RETRY (openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY));
  if (fd < 0)
    return -1;
  if (write_all (fd, str, strlen (str)) < 0)
    return -1;
  return 0;
}

int64_t
now_monotonic_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_wall_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
format_iso8601_utc (int64_t wall_ms, char *buf, size_t size)
{
  time_t secs = (time_t) (wall_ms / 1000);
  struct tm tm;

  gmtime_r (&secs, &tm);
  snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (wall_ms % 1000));
}

int
uuid_v4 (char *buf, size_t size)
{
  unsigned char b[16];
  size_t got = 0;

  while (got < sizeof b)
    {
      ssize_t n = getrandom (b + got, sizeof b - got, 0);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      got += (size_t) n;
    }
  b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf (buf, size,
            "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
            b[13], b[14], b[15]);
  return 0;
}

bool
uuid_is_valid (const char *s)
{
  size_t i;

  if (s == NULL || strlen (s) != 36)
    return false;
  for (i = 0; i < 36; i++)
    {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      char c = s[i];

      if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
        return false;
    }
  return true;
}

bool
parse_int64 (const char *s, int64_t *out)
{
  char *end = NULL;
  long long v;

  if (s == NULL || *s == '\0')
    return false;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return false;
  *out = v;
  return true;
}

void
copy_string (char *dst, size_t size, const char *src)
{
  if (size == 0)
    return;
  snprintf (dst, size, "%s", src ? src : "");
}

/* Length of the valid UTF-8 sequence at P (at most AVAIL bytes), or 0 when
 * it is invalid: overlong forms, surrogates and values past U+10FFFF are
 * invalid, as RFC 3629 defines. */
static size_t
utf8_sequence_length (const unsigned char *p, size_t avail)
{
  unsigned char c = p[0];
  size_t need, i;
  uint32_t cp;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    need = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    need = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    need = 4, cp = c & 0x07;
  else
    return 0;
  if (avail < need)
    return 0;
  for (i = 1; i < need; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
  if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff))
      || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return need;
}

char *
utf8_sanitize (const char *buf, size_t len, size_t *len_out)
{
  const unsigned char *p = (const unsigned char *) buf;
  size_t i = 0, o = 0;
  char *out;

  /* Each invalid byte becomes three bytes at most. */
  out = xmalloc (len * 3 + 1);
  while (i < len)
    {
      size_t n = utf8_sequence_length (p + i, len - i);
      if (n == 0)
        {
          memcpy (out + o, "\xef\xbf\xbd", 3);
          o += 3;
          i += 1;
          continue;
        }
      memcpy (out + o, p + i, n);
      o += n;
      i += n;
    }
  out[o] = '\0';
  if (len_out)
    *len_out = o;
  return out;
}

bool
output_stream_drain (struct output_stream *s, size_t *budget)
{
  char chunk[65536];

  for (;;)
    {
      ssize_t n = read (s->fd, chunk, sizeof chunk);
      size_t keep;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return false;
      if (n <= 0)
        {
          close (s->fd);
          s->fd = -1;
          return false;
        }
      keep = (size_t) n < *budget ? (size_t) n : *budget;
      if (s->len + keep + 1 > s->cap)
        {
          s->cap = (s->len + keep + 1) * 2;
          s->buf = xrealloc (s->buf, s->cap);
        }
      memcpy (s->buf + s->len, chunk, keep);
      s->len += keep;
      *budget -= keep;
      if (keep < (size_t) n)
        return true;
    }
}

int64_t
days_from_date (int year, int month, int day)
{
  /* Noon keeps the result whole whatever timegm does at day edges. */
  struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12 };

  return ((int64_t) timegm (&tm) - 12 * 3600) / 86400;
}

void
date_from_days (int64_t days, int *year, int *month, int *day)
{
  time_t t = (time_t) (days * 86400);
  struct tm tm;

  gmtime_r (&t, &tm);
  *year = tm.tm_year + 1900;
  *month = tm.tm_mon + 1;
  *day = tm.tm_mday;
}
