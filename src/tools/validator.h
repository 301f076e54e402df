/* Static check of user code before it runs, by a warm helper process in a
 * sandbox of its own that no agent can reach. */
#ifndef OMCP_VALIDATOR_H
#define OMCP_VALIDATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox.h"

typedef struct code_validator code_validator;

/* Create the validator's private sandbox in ENGINE and start the helper,
 * PYTHON -I -S running the embedded validator script, and check that it
 * replies. The sandbox is not part of any pool. PYTHON must outlive the
 * validator. */
int code_validator_new (sandbox_engine *engine, const char *python, code_validator **out,
                        omcp_error *err) OMCP_WUR;

/* Stop the helper and remove its sandbox. */
void code_validator_free (code_validator *validator);

/* Check LEN bytes of CODE. Returns true when the code may run; otherwise
 * fills REASON with a message starting "Security Violation:". A helper
 * that fails, hangs past the deadline or replies with garbage rejects the code
 * and is replaced. Safe to call from several threads: checks run one at a
 * time. */
bool code_validator_check (code_validator *validator, const char *code, size_t len,
                           char *reason, size_t reason_size);

#endif
