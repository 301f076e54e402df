/* .env files: KEY=VALUE lines loaded into the process environment. */
#ifndef OMCP_DOTENV_H
#define OMCP_DOTENV_H

#include "util.h"

/* Load PATH into the environment without overriding variables that are
 * already set. A missing file is not an error. Accepted lines: blank lines,
 * "# comments", "KEY=VALUE", "export KEY=VALUE", and values in single or
 * double quotes (double quotes understand \n, \t, \" and \\). Returns 0, or
 * -1 naming the file and line of a malformed entry. */
int dotenv_load (const char *path, omcp_error *err) OMCP_WUR;

#endif
