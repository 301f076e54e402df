/* The read-only SQL policy, applied before a database receives a query's text:
 * one SELECT (or WITH ... SELECT), optionally ending in one semicolon,
 * without comments, dollar quotes, SELECT INTO, locking clauses,
 * data-modifying CTEs or functions that read files, touch the server,
 * change state or wait. Every refusal is an error (errnum EACCES) whose
 * message starts with SQL_POLICY_REFUSAL. */
#ifndef OMCP_SQL_POLICY_H
#define OMCP_SQL_POLICY_H

#include <sqlite3.h>
#include <stdbool.h>

#include "util.h"

#define SQL_POLICY_REFUSAL "Only read-only SELECT queries are allowed"

/* Checks on the tokens, the same for both backends, using the PostgreSQL
 * scanner: not empty, no comment, no dollar quote, no unterminated string,
 * one statement, starting with SELECT or WITH. */
int sql_policy_check_text (const char *sql, omcp_error *err) OMCP_WUR;

/* sql_policy_check_text, then the PostgreSQL parse tree: exactly one
 * SelectStmt, no INTO, no locking clause, every CTE a SELECT, no denied
 * function anywhere. */
int sql_policy_check_postgres (const char *sql, omcp_error *err) OMCP_WUR;

/* True when no query may call function NAME (case-insensitive, schema
 * qualification ignored). */
bool sql_policy_function_denied (const char *name);

/* SQLite authorizer (sqlite3_set_authorizer) for read-only queries. It
 * allows reads, SELECT and functions that are not denied. It denies ATTACH,
 * DETACH, every write, every PRAGMA but reads of the schema, and denied
 * functions. USERDATA is unused. */
int sql_policy_sqlite_authorizer (void *userdata, int action, const char *arg1, const char *arg2,
                                  const char *db_name, const char *trigger);

/* Prepare SQL on DB as one read-only statement. The checks, in order:
 * sql_policy_check_text; the PostgreSQL tree checks when PostgreSQL's
 * grammar accepts the text, so that both backends reject alike; SQLite's
 * parser with the authorizer installed on DB; no tail but white space; and
 * sqlite3_stmt_readonly. The authorizer stays installed, so a re-prepare
 * after a schema change is checked too. Rejections have errnum EACCES, and
 * SQL that SQLite cannot prepare has EINVAL ("Invalid SQL: ..."). */
int sql_policy_sqlite_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **out,
                               omcp_error *err) OMCP_WUR;

#endif
