/* Shared helpers: allocation that aborts on failure, cleanup attributes,
 * EINTR-safe I/O, time and identifiers. Depends on libc only. */
#ifndef OMCP_UTIL_H
#define OMCP_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define OMCP_PRINTF(fmt_index, args_index) __attribute__ ((format (printf, fmt_index, args_index)))
#define OMCP_WUR __attribute__ ((warn_unused_result))

#ifndef TEMP_FAILURE_RETRY
#define TEMP_FAILURE_RETRY(expression)                                  \
  ({                                                                    \
    long int result_;                                                   \
    do                                                                  \
      result_ = (long int) (expression);                                \
    while (result_ == -1L && errno == EINTR);                           \
    result_;                                                            \
  })
#endif

#define N_ELEMENTS(array) (sizeof (array) / sizeof ((array)[0]))

/* Error passed as the last argument through every layer. Each layer adds
 * its step in front, so a log reads "create sandbox: mount /usr: ...". */
typedef struct omcp_error
{
  int errnum;          /* errno of the failing call, or 0 */
  char message[1024];  /* complete human-readable message */
} omcp_error;

/* Set ERR (when not NULL) from a format, appending ": strerror(ERRNUM)"
 * when ERRNUM is not 0. Always returns -1 so callers can write
 * "return omcp_error_set (...)". */
int omcp_error_set (omcp_error *err, int errnum, const char *fmt, ...) OMCP_PRINTF (3, 4);

/* Like omcp_error_set, but the message is complete as given: ERRNUM only
 * identifies the case for callers. */
int omcp_error_set_kind (omcp_error *err, int errnum, const char *fmt, ...) OMCP_PRINTF (3, 4);

/* Prefix ERR's message with "CONTEXT: ". Always returns -1. */
int omcp_error_prefix (omcp_error *err, const char *fmt, ...) OMCP_PRINTF (2, 3);

/* Allocation: these abort the process on failure. */
void *xmalloc (size_t size);
void *xcalloc (size_t count, size_t size);
void *xrealloc (void *ptr, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) OMCP_PRINTF (1, 2);

/* Cleanup attributes, as in bubblewrap and crun. */
static inline void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved_errno = errno;
      close (*fd);
      errno = saved_errno;
    }
}

static inline void
cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))

static inline void *
steal_pointer_impl (void *pp)
{
  void **ptr = (void **) pp;
  void *ret = *ptr;
  *ptr = NULL;
  return ret;
}
#define steal_pointer(pp) ((__typeof__ (*(pp))) steal_pointer_impl (pp))

static inline int
steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

/* Write all of BUF, retrying on EINTR and short writes. Returns 0 or -1
 * with errno set. */
/* Count the days from 1970-01-01 to the proleptic Gregorian date
 * YEAR-MONTH-DAY (negative before 1970). */
int64_t days_from_date (int year, int month, int day);

/* Convert DAYS since 1970-01-01 back to a date. */
void date_from_days (int64_t days, int *year, int *month, int *day);

int write_all (int fd, const void *buf, size_t len) OMCP_WUR;

/* Read a whole small file into a NUL-terminated heap buffer. Returns NULL
 * with errno set on failure. LEN_OUT may be NULL. */
char *read_file_at (int dirfd, const char *path, size_t *len_out);

/* Write STR to PATH (relative to DIRFD), which must already exist. Returns
 * 0 or -1 with errno set. */
int write_file_at (int dirfd, const char *path, const char *str);

/* Monotonic clock in milliseconds. */
int64_t now_monotonic_ms (void);

/* Wall clock in milliseconds since the epoch. */
int64_t now_wall_ms (void);

/* Format a wall-clock time (milliseconds since the epoch) as ISO 8601 UTC,
 * "2026-12-04T20:22:28.123Z". BUF needs at least 32 bytes. */
void format_iso8601_utc (int64_t wall_ms, char *buf, size_t size);

/* Write a random (version 4) UUID in its 36-character text form. BUF needs
 * at least 37 bytes. Returns 0, or -1 with errno set when getrandom fails. */
int uuid_v4 (char *buf, size_t size) OMCP_WUR;

/* True when S is a UUID in canonical text form (any version, lower or
 * upper case hex). */
bool uuid_is_valid (const char *s);

/* Parse a whole base-10 integer. Returns false on junk, empty text or
 * overflow. */
bool parse_int64 (const char *s, int64_t *out);

/* Copy at most SIZE - 1 bytes of SRC and terminate. */
void copy_string (char *dst, size_t size, const char *src);

/* Replace every invalid UTF-8 sequence in BUF with U+FFFD. Returns a new
 * NUL-terminated heap string of *LEN_OUT bytes (embedded NULs kept). */
char *utf8_sanitize (const char *buf, size_t len, size_t *len_out);

/* Output of a child read from a non-blocking pipe into a growing buffer. */
struct output_stream
{
  int fd;        /* -1 once closed at end of file */
  char *buf;     /* NULL until the first byte; room for a final NUL */
  size_t len;
  size_t cap;
};

/* Read what is available on S without blocking, closing S->fd at end of
 * file or on error. BUDGET is shared by the streams of one child: bytes
 * past it are dropped, and the function then returns true (cap reached). */
bool output_stream_drain (struct output_stream *s, size_t *budget);

#endif
