/* The requirement policy of install_package and the pip run inside a
 * sandbox. The policy admits exactly one pin, name==version, of a name on
 * the operator's allowlist. pip then installs it from the read-only
 * wheelhouse with no index, so the sandbox needs no network. */
#include "packages.h"

#include <ctype.h>
#include <regex.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Maximum length of a requirement, checked before anything else. */
#define REQUIREMENT_MAX (PACKAGE_NAME_MAX + 2 + PACKAGE_VERSION_MAX)

/* Maximum length of a requirement excerpt quoted in a message. */
#define QUOTE_MAX 80

/* Bytes of pip's output kept in the result. */
#define OUTPUT_TAIL_BYTES 4000

/* How often a running installation reports progress. */
#define PROGRESS_INTERVAL_MS 2000

/* A PEP 440 version in the forms pip accepts, its "permissive" grammar:
 * optional v, epoch, release, pre-, post- and dev-release parts, and a
 * local part after '+'. Matched case-insensitively. */
static const char version_pattern[] =
  "^v?([0-9]+!)?[0-9]+(\\.[0-9]+)*"
  "([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
  "(-[0-9]+|[-_.]?(post|rev|r)[-_.]?[0-9]*)?"
  "([-_.]?dev[-_.]?[0-9]*)?"
  "(\\+[a-z0-9]+([-_.][a-z0-9]+)*)?$";

static bool
is_separator (char c)
{
  return c == '-' || c == '_' || c == '.';
}

static bool
is_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_name_char (char c)
{
  return is_alnum (c) || is_separator (c);
}

/* A project name as PEP 508 defines it: letters, digits, '-', '_' and '.',
 * starting and ending with a letter or digit. */
static bool
is_valid_name (const char *name, size_t len)
{
  size_t i;

  if (len == 0 || len > PACKAGE_NAME_MAX || !is_alnum (name[0]) || !is_alnum (name[len - 1]))
    return false;
  for (i = 0; i < len; i++)
    if (!is_name_char (name[i]))
      return false;
  return true;
}

static bool
is_valid_version (const char *version)
{
  regex_t re;
  int ret;

  /* regcomp fails on this valid pattern only when memory runs out, and
   * the version is rejected then. */
  if (regcomp (&re, version_pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
    return false;
  ret = regexec (&re, version, 0, NULL, 0);
  regfree (&re);
  return ret == 0;
}

void
package_name_normalize (const char *name, char *out, size_t size)
{
  size_t n = 0;

  if (size == 0)
    return;
  for (; *name && n + 1 < size; name++)
    {
      if (is_separator (*name))
        {
          if (n > 0 && out[n - 1] == '-')
            continue;
          out[n++] = '-';
        }
      else
        out[n++] = (char) tolower ((unsigned char) *name);
    }
  out[n] = '\0';
}

/* Copy the next comma-separated entry of *CURSOR, without surrounding
 * whitespace, into ENTRY and advance *CURSOR past it. Returns false at the
 * end of the list. An entry too long for ENTRY is cut, and so invalid. */
static bool
allowlist_next (const char **cursor, char *entry, size_t size, size_t *entry_len)
{
  const char *p = *cursor, *end;

  if (*p == '\0')
    return false;
  end = p + strcspn (p, ",");
  *cursor = *end ? end + 1 : end;
  while (p < end && isspace ((unsigned char) *p))
    p++;
  while (end > p && isspace ((unsigned char) end[-1]))
    end--;
  *entry_len = (size_t) (end - p);
  copy_string (entry, size, "");
  if (*entry_len < size)
    {
      memcpy (entry, p, *entry_len);
      entry[*entry_len] = '\0';
    }
  return true;
}

int
package_allowlist_check (const char *allowlist, size_t *count, omcp_error *err)
{
  const char *cursor = allowlist;
  char entry[PACKAGE_NAME_MAX + 1];
  size_t len;

  *count = 0;
  while (allowlist_next (&cursor, entry, sizeof entry, &len))
    {
      if (len == 0)
        continue;
      if (len >= sizeof entry || !is_valid_name (entry, len))
        return omcp_error_set (err, 0,
                               "invalid PACKAGE_ALLOWLIST entry '%.*s': expected package names "
                               "(letters, digits, '-', '_' and '.') separated by commas, with no "
                               "versions",
                               (int) (len < QUOTE_MAX ? len : QUOTE_MAX), entry[0] ? entry : "?");
      (*count)++;
    }
  return 0;
}

/* True when the normalised NAME is on ALLOWLIST. Writes the normalised
 * entries, comma-separated, into LISTED for the rejection message. */
static bool
allowlist_contains (const char *allowlist, const char *name, char *listed, size_t size)
{
  const char *cursor = allowlist;
  char entry[PACKAGE_NAME_MAX + 1], normalized[PACKAGE_NAME_MAX + 1];
  size_t len;
  bool found = false;

  copy_string (listed, size, "");
  while (allowlist_next (&cursor, entry, sizeof entry, &len))
    {
      if (len == 0 || len >= sizeof entry)
        continue;
      package_name_normalize (entry, normalized, sizeof normalized);
      if (strcmp (normalized, name) == 0)
        found = true;
      if (strlen (listed) + strlen (normalized) + 3 < size)
        {
          if (listed[0])
            strcat (listed, ", ");
          strcat (listed, normalized);
        }
    }
  return found;
}

/* Write TEXT for a message: printable ASCII only, other bytes as '?', cut
 * to QUOTE_MAX characters. The result is always valid UTF-8. */
static void
quote_requirement (const char *text, size_t len, char *out, size_t size)
{
  size_t i, n = 0;

  for (i = 0; i < len; i++)
    {
      if (i == QUOTE_MAX || n + 4 >= size)
        {
          memcpy (out + n, "...", 3);
          n += 3;
          break;
        }
      out[n++] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
    }
  out[n] = '\0';
}

static bool
has_prefix_nocase (const char *text, const char *prefix)
{
  return strncasecmp (text, prefix, strlen (prefix)) == 0;
}

static bool
has_suffix_nocase (const char *text, size_t len, const char *suffix)
{
  size_t n = strlen (suffix);

  return len >= n && strncasecmp (text + len - n, suffix, n) == 0;
}

/* Checks on the whole text that come before it is split into name and
 * version, each with its own reason. URLs and paths come before
 * whitespace so that "name @ https://..." is called a URL. Returns 0 when
 * none applies. */
static int
check_requirement_form (const char *text, size_t len, const char *quoted, omcp_error *err)
{
  static const char *const url_prefixes[] = { "git+", "hg+", "svn+", "bzr+", "file:", "http:",
                                              "https:", "ftp:" };
  size_t i;

  if (text[0] == '-')
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: pip options are not accepted. "
                                "Give one exact pin, name==version.", quoted);
  for (i = 0; i < N_ELEMENTS (url_prefixes); i++)
    if (has_prefix_nocase (text, url_prefixes[i]))
      break;
  if (i < N_ELEMENTS (url_prefixes) || strstr (text, "://") != NULL || memchr (text, '@', len))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: URLs and direct references are not "
                                "accepted. Packages come only from the server's wheelhouse, by "
                                "name==version.", quoted);
  if (text[0] == '.' || text[0] == '~' || memchr (text, '/', len) || memchr (text, '\\', len)
      || has_suffix_nocase (text, len, ".whl") || has_suffix_nocase (text, len, ".tar.gz")
      || has_suffix_nocase (text, len, ".zip"))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: file paths are not accepted. "
                                "Packages come only from the server's wheelhouse, by "
                                "name==version.", quoted);
  for (i = 0; i < len; i++)
    if (isspace ((unsigned char) text[i]))
      return omcp_error_set_kind (err, EINVAL,
                                  "Requirement '%s' is rejected: it contains whitespace or a line "
                                  "break, and only one requirement is accepted. Give exactly one "
                                  "pin, name==version, without spaces.", quoted);
  for (i = 0; i < len; i++)
    if ((unsigned char) text[i] < 0x20 || (unsigned char) text[i] >= 0x7f)
      return omcp_error_set_kind (err, EINVAL,
                                  "Requirement '%s' is rejected: it contains a character other "
                                  "than printable ASCII.", quoted);
  if (memchr (text, '[', len) || memchr (text, ']', len))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: extras in brackets are not "
                                "accepted. Install each package by its own pin, name==version.",
                                quoted);
  if (memchr (text, ';', len))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: environment markers (after ';') "
                                "are not accepted. Give one exact pin, name==version.", quoted);
  if (memchr (text, ',', len))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: it contains a comma, but lists of "
                                "requirements and version ranges are not accepted. Give exactly "
                                "one pin, name==version.", quoted);
  return 0;
}

/* Check what follows the name: "==" and a version. */
static int
check_pin_operator (const char *name, size_t name_len, const char *rest, const char *quoted,
                    omcp_error *err)
{
  static const char *const operators[] = { ">=", "<=", "~=", "!=", "<", ">" };
  size_t i;

  if (*rest == '\0')
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: it has no version. Pin an exact "
                                "version: %.*s==VERSION.", quoted, (int) name_len, name);
  if (strncmp (rest, "===", 3) == 0)
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: arbitrary equality (===) is not "
                                "accepted. Pin an exact version: %.*s==VERSION.",
                                quoted, (int) name_len, name);
  if (strncmp (rest, "==", 2) == 0)
    return 0;
  for (i = 0; i < N_ELEMENTS (operators); i++)
    if (strncmp (rest, operators[i], strlen (operators[i])) == 0)
      return omcp_error_set_kind (err, EINVAL,
                                  "Requirement '%s' is rejected: version ranges and the operator "
                                  "'%s' are not accepted. Pin an exact version: %.*s==VERSION.",
                                  quoted, operators[i], (int) name_len, name);
  if (rest[0] == '=')
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: '=' is not an operator. Pin an "
                                "exact version: %.*s==VERSION.", quoted, (int) name_len, name);
  return omcp_error_set_kind (err, EINVAL,
                              "Requirement '%s' is rejected: the character '%c' is not allowed "
                              "in a package name. Give one exact pin, name==version.",
                              quoted, rest[0]);
}

int
package_requirement_check (const char *requirement, const char *allowlist,
                           struct package_pin *pin, omcp_error *err)
{
  char quoted[QUOTE_MAX + 4], listed[512];
  char normalized[PACKAGE_NAME_MAX + 1];
  cleanup_free char *text = NULL;
  const char *start = requirement ? requirement : "", *version;
  size_t len, name_len;
  size_t allowed;

  /* Whitespace around the requirement is harmless; inside it, it is not. */
  while (isspace ((unsigned char) *start))
    start++;
  len = strlen (start);
  while (len > 0 && isspace ((unsigned char) start[len - 1]))
    len--;
  if (len == 0)
    return omcp_error_set_kind (err, EINVAL,
                                "The package requirement is empty. Give one exact pin, "
                                "name==version.");
  text = xstrndup (start, len);
  quote_requirement (text, len, quoted, sizeof quoted);
  if (len > REQUIREMENT_MAX)
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: it is longer than %d characters.",
                                quoted, REQUIREMENT_MAX);
  if (check_requirement_form (text, len, quoted, err) < 0)
    return -1;

  /* name, "==", version */
  for (name_len = 0; is_name_char (text[name_len]); name_len++)
    ;
  if (name_len == 0)
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: it does not start with a package "
                                "name. Give one exact pin, name==version.", quoted);
  if (check_pin_operator (text, name_len, text + name_len, quoted, err) < 0)
    return -1;
  if (!is_valid_name (text, name_len))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: '%.*s' is not a valid package "
                                "name. Names start and end with a letter or digit and contain "
                                "only letters, digits, '-', '_' and '.'.",
                                quoted, (int) (name_len < QUOTE_MAX ? name_len : QUOTE_MAX), text);
  version = text + name_len + 2;
  if (*version == '\0')
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: no version follows '=='.", quoted);
  if (strchr (version, '*'))
    return omcp_error_set_kind (err, EINVAL,
                                "Requirement '%s' is rejected: wildcard versions (*) are not "
                                "accepted. Pin an exact version.", quoted);
  if (strlen (version) > PACKAGE_VERSION_MAX || !is_valid_version (version))
    {
      char quoted_version[QUOTE_MAX + 4];

      quote_requirement (version, strlen (version), quoted_version, sizeof quoted_version);
      return omcp_error_set_kind (err, EINVAL,
                                  "Requirement '%s' is rejected: '%s' is not a valid version. "
                                  "Versions look like 1.2.3, 2.0rc1 or 1.0.post1 (PEP 440).",
                                  quoted, quoted_version);
    }

  /* The allowlist, compared after PEP 503 normalisation. */
  text[name_len] = '\0';
  package_name_normalize (text, normalized, sizeof normalized);
  if (package_allowlist_check (allowlist ? allowlist : "", &allowed, NULL) < 0 || allowed == 0)
    return omcp_error_set_kind (err, EPERM,
                                "Package '%s' is rejected: PACKAGE_ALLOWLIST, the server's list "
                                "of installable packages, is empty, so no package may be "
                                "installed.", normalized);
  if (!allowlist_contains (allowlist, normalized, listed, sizeof listed))
    return omcp_error_set_kind (err, EPERM,
                                "Package '%s' is not in PACKAGE_ALLOWLIST, the server's list of "
                                "installable packages (allowed: %s).", normalized, listed);

  copy_string (pin->name, sizeof pin->name, normalized);
  copy_string (pin->version, sizeof pin->version, version);
  return 0;
}

int
package_wheelhouse_check (const char *path, omcp_error *err)
{
  struct stat st;

  if (path == NULL || path[0] == '\0')
    return omcp_error_set (err, 0, "PACKAGE_WHEELHOUSE is not set: with "
                                   "PACKAGE_INSTALL_ENABLED=true it must name the host directory "
                                   "of wheels to install from");
  if (path[0] != '/')
    return omcp_error_set (err, 0, "invalid PACKAGE_WHEELHOUSE '%s': expected an absolute path",
                           path);
  if (stat (path, &st) < 0)
    return omcp_error_set (err, errno, "invalid PACKAGE_WHEELHOUSE '%s'", path);
  if (!S_ISDIR (st.st_mode))
    return omcp_error_set (err, 0, "invalid PACKAGE_WHEELHOUSE '%s': not a directory", path);
  /* The server opens the directory for the bind; code in the sandbox, an
   * unprivileged user, then lists it and reads its wheels. */
  if ((st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH))
    return omcp_error_set (err, 0, "invalid PACKAGE_WHEELHOUSE '%s': it must be readable and "
                                   "searchable by every user, because sandboxes read it as an "
                                   "unprivileged user", path);
  return 0;
}

/* ---- pip ---- */

/* Return the start of the last line of TEXT that starts with PREFIX, or
 * NULL. */
static const char *
last_line_starting (const char *text, const char *prefix)
{
  const char *found = NULL, *line = text;
  size_t n = strlen (prefix);

  while (line && *line)
    {
      if (strncmp (line, prefix, n) == 0)
        found = line;
      line = strchr (line, '\n');
      if (line)
        line++;
    }
  return found;
}

static size_t
line_length (const char *line)
{
  return strcspn (line, "\r\n");
}

/* The project name at the start of a requirement that pip printed, such
 * as "foo==1.0" or "bar>=2 (from foo==1.0)", normalised. */
static void
requirement_name (const char *text, size_t len, char *out, size_t size)
{
  char name[PACKAGE_NAME_MAX + 1];
  size_t n = 0;

  while (n < len && n < PACKAGE_NAME_MAX && is_name_char (text[n]))
    {
      name[n] = text[n];
      n++;
    }
  name[n] = '\0';
  package_name_normalize (name, out, size);
}

/* Explain pip's "No matching distribution found for REQ". */
static void
explain_missing (const struct package_pin *pin, const char *output, const char *line,
                 char *message, size_t size)
{
  static const char marker[] = "No matching distribution found for ";
  static const char versions_marker[] = "(from versions: ";
  const char *missing = strstr (line, marker) + strlen (marker);
  const char *versions = NULL, *candidates;
  char missing_name[PACKAGE_NAME_MAX + 1];
  size_t missing_len = line_length (missing), versions_len = 0;

  /* "Could not find a version that satisfies the requirement R (from
   * versions: 1.0, 1.1)" comes just before, and lists the compatible
   * versions pip saw. */
  candidates = last_line_starting (output, "ERROR: Could not find a version");
  if (candidates)
    versions = strstr (candidates, versions_marker);
  if (versions && versions < candidates + line_length (candidates))
    {
      versions += strlen (versions_marker);
      versions_len = strcspn (versions, ")\r\n");
    }
  else
    versions = NULL;

  requirement_name (missing, missing_len, missing_name, sizeof missing_name);
  if (strcmp (missing_name, pin->name) == 0)
    {
      if (versions == NULL || (versions_len == 4 && strncmp (versions, "none", 4) == 0))
        snprintf (message, size,
                  "%s==%s is not in the wheelhouse: it has no wheel of %s that the sandbox's "
                  "Python can install.", pin->name, pin->version, pin->name);
      else
        snprintf (message, size,
                  "%s==%s is not in the wheelhouse. Versions of %s there: %.*s.", pin->name,
                  pin->version, pin->name, (int) versions_len, versions);
    }
  else
    snprintf (message, size,
              "%s==%s was not installed: its dependency %.*s is not in the wheelhouse "
              "(versions there: %.*s). Dependencies, too, come only from the wheelhouse.",
              pin->name, pin->version, (int) missing_len, missing,
              versions ? (int) versions_len : 4, versions ? versions : "none");
}

void
package_explain_failure (const struct package_pin *pin, int exit_code, const char *output,
                         char *message, size_t size)
{
  const char *line;

  if (strstr (output, "No module named pip") != NULL)
    {
      snprintf (message, size,
                "%s==%s was not installed: pip is not available to the sandbox's Python. The "
                "server's host needs pip for that interpreter (on Debian, python3-pip).",
                pin->name, pin->version);
      return;
    }

  line = last_line_starting (output, "ERROR: No matching distribution found for ");
  if (line)
    {
      explain_missing (pin, output, line, message, size);
      return;
    }

  /* Anything else: pip's own last error line. */
  line = last_line_starting (output, "ERROR: ");
  if (line)
    {
      line += strlen ("ERROR: ");
      snprintf (message, size, "%s==%s was not installed: pip exited with code %d: %.*s",
                pin->name, pin->version, exit_code, (int) line_length (line), line);
      return;
    }
  snprintf (message, size,
            "%s==%s was not installed: pip exited with code %d. Its output is in 'output'.",
            pin->name, pin->version, exit_code);
}

/* Join the tails of stdout and stderr into one UTF-8 text of at most
 * OUTPUT_TAIL_BYTES, starting at a line where possible. */
static char *
output_tail (const struct sandbox_exec_result *r)
{
  cleanup_free char *joined = NULL;
  const char *start;
  size_t len, out_len;

  joined = xasprintf ("%s%s%s", r->out ? r->out : "",
                      r->out_len && r->out[r->out_len - 1] != '\n' && r->err_len ? "\n" : "",
                      r->err ? r->err : "");
  len = strlen (joined);
  start = joined;
  if (len > OUTPUT_TAIL_BYTES)
    {
      const char *newline;

      start = joined + len - OUTPUT_TAIL_BYTES;
      newline = strchr (start, '\n');
      if (newline && newline[1])
        start = newline + 1;
    }
  return utf8_sanitize (start, strlen (start), &out_len);
}

/* The line "Successfully installed a-1.0 b-2.0" names everything pip put
 * into the target, dependencies included. */
static void
describe_success (const struct package_pin *pin, const char *output, char *message, size_t size)
{
  const char *line = last_line_starting (output, "Successfully installed ");

  if (line)
    {
      line += strlen ("Successfully installed ");
      snprintf (message, size,
                "Installed %s==%s into %s (distributions: %.*s). Later executions in this "
                "sandbox can import it.", pin->name, pin->version, PACKAGE_TARGET_DIR,
                (int) line_length (line), line);
    }
  else
    snprintf (message, size,
              "Installed %s==%s into %s. Later executions in this sandbox can import it.",
              pin->name, pin->version, PACKAGE_TARGET_DIR);
}

int
package_install (sandbox *sb, const struct package_install_request *request,
                 struct package_install_result *result, omcp_error *err)
{
  cleanup_free char *requirement = xasprintf ("%s==%s", request->pin->name,
                                              request->pin->version);
  /* -I keeps the working directory, /sandbox/packages and the user site
   * directory off sys.path, so nothing an earlier execution wrote can
   * replace a module that pip imports. --isolated and PIP_CONFIG_FILE=
   * /dev/null make pip ignore every configuration file and PIP_ variable.
   * --no-index with --find-links on the read-only wheelhouse is the only
   * source, and --only-binary keeps pip from building source archives.
   * --upgrade replaces an earlier version in the target. "--" ends the
   * options, although the policy already rejects a leading '-'.
   * NOTE: pip unpacks into TMPDIR before it moves the files into the
   * target, so a package must also fit into the sandbox's 100 MB /tmp. */
  const char *argv[] = {
    request->python, "-I", "-m", "pip", "install",
    "--isolated", "--no-index", "--find-links", PACKAGE_WHEELHOUSE_MOUNT,
    "--only-binary", ":all:", "--target", PACKAGE_TARGET_DIR, "--upgrade",
    "--no-cache-dir", "--disable-pip-version-check", "--no-input", "--no-color",
    "--progress-bar", "off", "--no-warn-script-location",
    "--", requirement, NULL,
  };
  const char *envp[] = {
    "HOME=/sandbox",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "LANG=C.UTF-8",
    "LC_ALL=C.UTF-8",
    "TMPDIR=/tmp",
    "USER=sandboxuser",
    "LOGNAME=sandboxuser",
    "PIP_CONFIG_FILE=/dev/null",
    NULL,
  };
  struct sandbox_exec_request exec = {
    .exec_id = request->exec_id,
    .argv = argv,
    .envp = envp,
    .timeout_ms = request->timeout_ms,
    .max_output_bytes = request->max_output_bytes,
    .cancel_fd = request->cancel_fd,
    .on_progress = request->on_progress,
    .progress_userdata = request->progress_userdata,
    .progress_interval_ms = PROGRESS_INTERVAL_MS,
  };
  struct sandbox_exec_result r;

  memset (result, 0, sizeof *result);
  if (sandbox_exec (sb, &exec, &r, err) < 0)
    return -1;

  result->exit_code = r.exit_code;
  result->sandbox_destroyed = r.sandbox_destroyed;
  result->duration_ms = r.duration_ms;
  result->output = output_tail (&r);

  if (r.exit_code == 0 && !r.sandbox_destroyed && !r.cancelled)
    {
      result->installed = true;
      describe_success (request->pin, result->output, result->message, sizeof result->message);
    }
  else if (r.message[0])
    /* Timeout, output limit, memory limit, cancellation or a destroyed
     * sandbox, as the engine's message states. */
    snprintf (result->message, sizeof result->message, "%s==%s was not installed: %s",
              request->pin->name, request->pin->version, r.message);
  else
    package_explain_failure (request->pin, r.exit_code, result->output, result->message,
                             sizeof result->message);

  sandbox_exec_result_clear (&r);
  return 0;
}

void
package_install_result_clear (struct package_install_result *result)
{
  free (result->output);
  result->output = NULL;
}
