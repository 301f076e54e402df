/* omcp-sandbox: the supervisor as a program of its own. It links only the
 * sandbox engine and libseccomp, so building a sandbox does not pay for
 * loading the server's database and parser libraries. */
#include "sandbox-internal.h"
#include "sandbox.h"

#if SANDBOX_ADDRESS_SANITIZER
/* PID 1 of a namespace receives from inside only the signals it has a
 * handler for. ASan's handlers for SIGSEGV and its kin would let code in
 * the sandbox kill the supervisor, which a normal build ignores. */
const char *__asan_default_options (void);

const char *
__asan_default_options (void)
{
  return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0";
}
#endif

int
main (int argc, char **argv)
{
  sandbox_supervisor_main (argc, argv);
}
