#include "dotenv.h"

#include <ctype.h>
#include <string.h>

static char *
skip_space (char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Parse the value at P in place. Returns the value or NULL when a quote is
 * not closed or junk follows it. */
static char *
parse_value (char *p)
{
  char *out, *start;
  char quote;

  p = skip_space (p);
  if (*p != '"' && *p != '\'')
    {
      char *end;

      /* Unquoted: up to an inline " #" comment, trailing space trimmed. */
      start = p;
      for (end = p; *end; end++)
        if (*end == '#' && end > start && (end[-1] == ' ' || end[-1] == '\t'))
          break;
      *end = '\0';
      while (end > start && isspace ((unsigned char) end[-1]))
        *--end = '\0';
      return start;
    }

  quote = *p++;
  start = out = p;
  for (; *p && *p != quote; p++)
    {
      if (quote == '"' && *p == '\\' && p[1])
        {
          p++;
          switch (*p)
            {
            case 'n': *out++ = '\n'; break;
            case 't': *out++ = '\t'; break;
            default: *out++ = *p; break;
            }
          continue;
        }
      *out++ = *p;
    }
  if (*p != quote)
    return NULL;
  p = skip_space (p + 1);
  if (*p != '\0' && *p != '#')
    return NULL;
  *out = '\0';
  return start;
}

int
dotenv_load (const char *path, omcp_error *err)
{
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int lineno = 0;

  f = fopen (path, "re");
  if (f == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return omcp_error_set (err, errno, "open %s", path);
    }

  while ((len = getline (&line, &cap, f)) >= 0)
    {
      char *p, *key, *eq, *value;

      lineno++;
      while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
      p = skip_space (line);
      if (*p == '\0' || *p == '#')
        continue;
      if (strncmp (p, "export ", 7) == 0)
        p = skip_space (p + 7);

      key = p;
      while (*p == '_' || isalnum ((unsigned char) *p))
        p++;
      eq = skip_space (p);
      if (p == key || isdigit ((unsigned char) *key) || *eq != '=')
        return omcp_error_set (err, 0, "%s line %d: expected KEY=VALUE", path, lineno);
      *p = '\0';

      value = parse_value (eq + 1);
      if (value == NULL)
        return omcp_error_set (err, 0, "%s line %d: unterminated or malformed quoted value for %s",
                               path, lineno, key);
      if (setenv (key, value, 0) < 0)
        return omcp_error_set (err, errno, "%s line %d: set %s", path, lineno, key);
    }
  return 0;
}
