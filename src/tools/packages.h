/* Package installation: the requirement policy of install_package and the
 * pip run that installs an allowed pin from a local wheelhouse inside a
 * sandbox, without network. */
#ifndef OMCP_PACKAGES_H
#define OMCP_PACKAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"
#include "util.h"

/* Mount point of the read-only wheelhouse inside every sandbox. */
#define PACKAGE_WHEELHOUSE_MOUNT "/wheelhouse"

/* Target directory of pip. python/bootstrap.py appends it to sys.path. */
#define PACKAGE_TARGET_DIR "/sandbox/packages"

/* Maximum lengths of a project name and a version. Real names and
 * versions are far shorter, and the bounds keep every message short. */
#define PACKAGE_NAME_MAX 100
#define PACKAGE_VERSION_MAX 64

/* One accepted requirement, name==version. */
struct package_pin
{
  char name[PACKAGE_NAME_MAX + 1];       /* PEP 503 normalised */
  char version[PACKAGE_VERSION_MAX + 1]; /* as given */
};

/* Write the PEP 503 normal form of NAME into OUT: lower case, with every
 * run of '-', '_' and '.' replaced by one '-'. */
void package_name_normalize (const char *name, char *out, size_t size);

/* Check that ALLOWLIST, the value of PACKAGE_ALLOWLIST, is a comma-separated
 * list of valid project names (whitespace around them is ignored). Sets
 * *COUNT to the number of names. */
int package_allowlist_check (const char *allowlist, size_t *count, omcp_error *err) OMCP_WUR;

/* Check REQUIREMENT against the policy: exactly one pin name==version whose
 * normalised name is in ALLOWLIST. Whitespace around the requirement is
 * ignored. On rejection, ERR states the reason in sentences meant for the
 * agent. */
int package_requirement_check (const char *requirement, const char *allowlist,
                               struct package_pin *pin, omcp_error *err) OMCP_WUR;

/* Check that PATH, the value of PACKAGE_WHEELHOUSE, is an existing
 * absolute directory. */
int package_wheelhouse_check (const char *path, omcp_error *err) OMCP_WUR;

struct package_install_request
{
  const char *python;          /* interpreter inside the sandbox */
  const struct package_pin *pin;
  const char *exec_id;         /* for logs */
  int64_t timeout_ms;
  size_t max_output_bytes;
  int cancel_fd;               /* -1 for none */
  void (*on_progress) (void *userdata, int64_t elapsed_ms);
  void *progress_userdata;
};

struct package_install_result
{
  bool installed;
  int exit_code;               /* of pip, as sandbox_exec reports it */
  bool sandbox_destroyed;
  char message[1024];          /* what happened, in one or two sentences */
  char *output;                /* tail of pip's stdout and stderr, UTF-8 */
  int64_t duration_ms;
};

/* Run pip inside SB to install REQUEST->pin from the wheelhouse into
 * PACKAGE_TARGET_DIR. Returns 0 with RESULT filled, installed or not, or
 * -1 when pip did not run: errnum EBUSY means another execution is running
 * in SB. */
int package_install (sandbox *sb, const struct package_install_request *request,
                     struct package_install_result *result, omcp_error *err) OMCP_WUR;

void package_install_result_clear (struct package_install_result *result);

/* Build the user message of a failed pip run from its exit code and
 * combined output. Exposed for the unit tests. */
void package_explain_failure (const struct package_pin *pin, int exit_code, const char *output,
                              char *message, size_t size);

#endif
