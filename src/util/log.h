/* Logger: one line per event on stderr, "time level component: message
 * key=value...". Optional extra sink (the MCP layer forwards records to
 * its client). Never pass code, program output or secrets to it. */
#ifndef OMCP_LOG_H
#define OMCP_LOG_H

#include <stdbool.h>
#include "util.h"

enum log_level
{
  LOG_LEVEL_DEBUG = 0,
  LOG_LEVEL_INFO,
  LOG_LEVEL_WARNING,
  LOG_LEVEL_ERROR,
};

/* Extra sink, called after the stderr line is written, with the level,
 * the component and the formatted message (without time and level). Must
 * be thread-safe and must not log. */
typedef void (*log_sink_fn) (enum log_level level, const char *component, const char *message,
                             void *userdata);

void log_set_level (enum log_level level);
enum log_level log_get_level (void);
void log_set_sink (log_sink_fn sink, void *userdata);

/* Parse "DEBUG", "INFO", "WARNING" or "ERROR" (any case; "WARN" too). */
bool log_level_parse (const char *text, enum log_level *out);
const char *log_level_name (enum log_level level);

void log_msg (enum log_level level, const char *component, const char *fmt, ...) OMCP_PRINTF (3, 4);

#define log_debug(component, ...) log_msg (LOG_LEVEL_DEBUG, component, __VA_ARGS__)
#define log_info(component, ...) log_msg (LOG_LEVEL_INFO, component, __VA_ARGS__)
#define log_warning(component, ...) log_msg (LOG_LEVEL_WARNING, component, __VA_ARGS__)
#define log_error(component, ...) log_msg (LOG_LEVEL_ERROR, component, __VA_ARGS__)

#endif
