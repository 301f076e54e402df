/* omcp-sandbox: the supervisor as a program of its own. It links only the
 * sandbox engine and libseccomp, so building a sandbox does not pay for
 * loading the server's database and parser libraries. */
#include "sandbox.h"

int
main (int argc, char **argv)
{
  sandbox_supervisor_main (argc, argv);
}
