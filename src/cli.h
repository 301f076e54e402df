/* Subcommands of the omcp program, and the helpers they share. */
#ifndef OMCP_CLI_H
#define OMCP_CLI_H

#include "config.h"
#include "db.h"

/* Read .env and the environment into CONFIG and set the log level.
 * Returns -1 after printing why. */
int load_config (struct omcp_config *config);

/* Fill DC with the database settings of CONFIG. */
void db_config_from (const struct omcp_config *config, struct db_config *dc);

int command_cdm_init (void);
int command_cdm_load (const char *path);
int command_demo_data (int argc, char **argv);

#endif
