#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

static _Atomic int current_level = LOG_LEVEL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn sink_fn;
static void *sink_userdata;

static const char *const level_names[] = { "DEBUG", "INFO", "WARNING", "ERROR" };

void
log_set_level (enum log_level level)
{
  current_level = level;
}

enum log_level
log_get_level (void)
{
  return (enum log_level) current_level;
}

void
log_set_sink (log_sink_fn sink, void *userdata)
{
  pthread_mutex_lock (&log_lock);
  sink_fn = sink;
  sink_userdata = userdata;
  pthread_mutex_unlock (&log_lock);
}

bool
log_level_parse (const char *text, enum log_level *out)
{
  size_t i;

  if (text == NULL)
    return false;
  for (i = 0; i < N_ELEMENTS (level_names); i++)
    if (strcasecmp (text, level_names[i]) == 0)
      {
        *out = (enum log_level) i;
        return true;
      }
  if (strcasecmp (text, "WARN") == 0)
    {
      *out = LOG_LEVEL_WARNING;
      return true;
    }
  return false;
}

const char *
log_level_name (enum log_level level)
{
  if ((size_t) level >= N_ELEMENTS (level_names))
    return "UNKNOWN";
  return level_names[level];
}

void
log_msg (enum log_level level, const char *component, const char *fmt, ...)
{
  char message[2048];
  char when[40];
  char line[2200];
  va_list ap;
  int n;
  int saved_errno = errno;

  if ((int) level < current_level && sink_fn == NULL)
    return;

  va_start (ap, fmt);
  vsnprintf (message, sizeof message, fmt, ap);
  va_end (ap);

  pthread_mutex_lock (&log_lock);
  if ((int) level >= current_level)
    {
      format_iso8601_utc (now_wall_ms (), when, sizeof when);
      n = snprintf (line, sizeof line, "%s %s %s: %s\n", when, log_level_name (level), component,
                    message);
      if (n > (int) sizeof line - 1)
        {
          n = (int) sizeof line - 1;
          line[n - 1] = '\n';
        }
      /* Best effort: there is nowhere to report a failed write to stderr.
       * NOTE: the write blocks when stderr is a full pipe that no process
       * reads, and with it every thread that logs. */
      (void) !write_all (STDERR_FILENO, line, (size_t) n);
    }
  if (sink_fn)
    sink_fn (level, component, message, sink_userdata);
  pthread_mutex_unlock (&log_lock);
  errno = saved_errno;
}
