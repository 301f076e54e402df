"""Read-only access to the OMOP CDM from inside an omcp sandbox.

    import omop
    df = omop.query("SELECT gender_concept_id, COUNT(*) AS n "
                    "FROM omop_cdm.person GROUP BY gender_concept_id")
    person = omop.table("person", columns=["person_id", "year_of_birth"], limit=10)
    omop.concept_name(8507)

The same code runs on both backends. SQLite: the CDM file that the server
binds read-only at /omop/cdm.sqlite, attached as omop_cdm. PostgreSQL: the
server's Unix socket directory bound read-only at /omop/pgsocket, with a
read-only session whose search_path is the CDM schema. The sandbox has no
network, so a PostgreSQL server reached over TCP is out of reach.

Parameters use one style on both backends: `?` with a sequence, or `:name`
with a mapping. Dates come back as pandas datetime64 on both backends: on
PostgreSQL every date and timestamp value, on SQLite, which stores dates
as ISO text, every column whose name ends in _date or _datetime, as the
CDM's date columns do. So name a computed date that way
(MIN(visit_start_date) AS first_visit_date) or convert it with
pandas.to_datetime. Dates after 2262 stay date objects. PostgreSQL
NUMERIC values come back as floats. Give computed columns a name with AS,
because the backends name them differently.

The server passes the connection settings as OMOP_DB_* environment
variables of each execution. This module is built into omcp and cannot be
shadowed by a file in /sandbox/packages.
"""

import os
import re

__all__ = ["Error", "query", "table", "tables", "columns", "concept_name", "backend",
           "CDM_SCHEMA", "CDM_TABLES"]

# Schema name of the CDM tables in SQL text, on both backends.
CDM_SCHEMA = "omop_cdm"

# The tables of OMOP CDM v5.4.
CDM_TABLES = (
    "person", "observation_period", "visit_occurrence", "visit_detail",
    "condition_occurrence", "drug_exposure", "procedure_occurrence", "device_exposure",
    "measurement", "observation", "death", "note", "note_nlp", "specimen",
    "fact_relationship", "location", "care_site", "provider", "payer_plan_period", "cost",
    "drug_era", "dose_era", "condition_era", "episode", "episode_event", "metadata",
    "cdm_source", "concept", "vocabulary", "domain", "concept_class",
    "concept_relationship", "relationship", "concept_synonym", "concept_ancestor",
    "source_to_concept_map", "drug_strength", "cohort", "cohort_definition",
)

# Seconds a PostgreSQL connection attempt and a statement may take.
CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 300000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")

_connection = None
_catalogue = None


class Error(Exception):
    """A CDM database that cannot be reached, or a query that failed."""


def backend():
    """Return "sqlite" or "postgresql", the backend the server configured."""
    name = os.environ.get("OMOP_DB_BACKEND", "")
    if name not in ("sqlite", "postgresql"):
        raise Error("No CDM database is configured for this sandbox (OMOP_DB_BACKEND is not "
                    "set). Run the code through omcp's execute_python_code tool.")
    return name


# ---------------------------------------------------------------------------
# Connections


def _sqlite_wal_mode(path):
    """Return True when the SQLite file PATH is in WAL mode: bytes 18 and 19
    of its header, the read and write format versions, are 2."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def _connect_sqlite():
    import sqlite3

    path = os.environ.get("OMOP_DB_PATH", "/omop/cdm.sqlite")
    if not os.path.exists(path):
        raise Error(f"No CDM database is loaded: {path} does not exist in this sandbox, "
                    "because the server's DB_PATH file did not exist (or the server could "
                    "not open it) when the sandbox was created. Load a CDM (omcp cdm load) "
                    "and create a new sandbox.")
    if not os.access(path, os.R_OK):
        raise Error(f"Cannot read the CDM database {path}: permission denied. The host file "
                    "must be readable by other users (chmod o+r).")
    # The main database is in memory (temporary tables work) and the CDM is
    # attached read-only, so omop_cdm.<table> names the CDM as on
    # PostgreSQL. Without immutable=1 SQLite takes shared locks, so a reader
    # waits for a load that is committing rather than read it half-written.
    # A database in WAL mode needs its -wal and -shm files, which are not in
    # the sandbox. Opened as immutable, it reads as of its last checkpoint.
    options = "mode=ro&immutable=1" if _sqlite_wal_mode(path) else "mode=ro"
    connection = sqlite3.connect(":memory:", uri=True, timeout=30, check_same_thread=False)
    try:
        connection.execute(f"ATTACH DATABASE ? AS {CDM_SCHEMA}",
                           ("file:" + path + "?" + options,))
    except sqlite3.Error as error:
        connection.close()
        raise Error(f"Cannot open the CDM database {path}: {error}") from None
    return connection


def _connect_postgresql():
    host = os.environ.get("OMOP_DB_HOST", "")
    port = os.environ.get("OMOP_DB_PORT", "") or "5432"
    if not host.startswith("/"):
        raise Error(f"The CDM is on the PostgreSQL server {host or 'localhost'} port {port}, "
                    "reached over TCP, and sandboxes have no network. Set DB_HOST to the "
                    "directory of the server's Unix socket so that sandboxes can query it, or "
                    "use the query tools (query_omop_table, Select_Query).")
    if not os.path.isdir(host):
        raise Error(f"Cannot connect to the CDM database: the PostgreSQL socket directory was "
                    f"not bound into this sandbox at {host}, because the server found no "
                    "socket in DB_HOST when it started (its log says why). Start PostgreSQL "
                    "before omcp.")
    try:
        import psycopg2
        import psycopg2.extensions
    except ImportError:
        raise Error("psycopg2 is not installed on the host (Debian package "
                    "python3-psycopg2), so sandboxes cannot query PostgreSQL") from None

    try:
        connection = psycopg2.connect(
            host=host, port=port, dbname=os.environ.get("OMOP_DB_NAME", ""),
            user=os.environ.get("OMOP_DB_USER", ""),
            password=os.environ.get("OMOP_DB_PASSWORD", ""),
            connect_timeout=CONNECT_TIMEOUT_S, application_name="omcp-sandbox")
    except psycopg2.Error as error:
        message = str(error).strip()
        raise Error(f"Cannot connect to the CDM database (PostgreSQL through {host}): "
                    f"{message}") from None

    # Read-only session on top of the read-only role that production uses.
    connection.set_session(readonly=True, autocommit=True)
    decimal_to_float = psycopg2.extensions.new_type(
        psycopg2.extensions.DECIMAL.values, "OMCP_DECIMAL",
        lambda value, cursor: None if value is None else float(value))
    psycopg2.extensions.register_type(decimal_to_float, connection)
    schema = os.environ.get("OMOP_DB_SCHEMA", "") or CDM_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, false), "
                       "set_config('statement_timeout', %s, false)",
                       (_quote(schema), str(STATEMENT_TIMEOUT_MS)))
    return connection


def _connect():
    global _connection
    if _connection is None:
        _connection = _connect_sqlite() if backend() == "sqlite" else _connect_postgresql()
    return _connection


# ---------------------------------------------------------------------------
# SQL text


def _quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def _translate_postgresql(sql, named, schema):
    """Rewrite SQL for psycopg2: ? or :name placeholders become %s or
    %(name)s, a literal % doubles, and the schema name omop_cdm becomes
    SCHEMA when they differ. Strings, quoted names and comments stay."""
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "%":
            out.append("%%")
            i += 1
        elif c == "?" and not named:
            out.append("%s")
            i += 1
        elif (c == ":" and named and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_")
              and (i == 0 or sql[i - 1] != ":")):
            match = _PARAMETER_NAME.match(sql, i + 1)
            out.append("%(" + match.group(0) + ")s")
            i = match.end()
        elif c.isalpha() or c == "_":
            match = _WORD.match(sql, i)
            word = match.group(0)
            if (word.lower() == CDM_SCHEMA and schema != CDM_SCHEMA
                    and sql.startswith(".", match.end())):
                out.append(_quote(schema))
            else:
                out.append(word)
            i = match.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _plain(value):
    """Return VALUE as a type both database drivers bind (numpy scalars
    and pandas timestamps become Python ones)."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    to_pydatetime = getattr(value, "to_pydatetime", None)
    if to_pydatetime is not None:
        return to_pydatetime()
    return value


def _bind(params):
    if params is None:
        return None, False
    if isinstance(params, dict):
        return {str(key): _plain(value) for key, value in params.items()}, True
    if isinstance(params, (str, bytes)):
        raise TypeError("params must be a sequence (for ? placeholders) or a mapping (for "
                        ":name placeholders), not a string")
    return [_plain(value) for value in params], False


# ---------------------------------------------------------------------------
# Results


def _parse_iso(text):
    """Return the date or datetime that TEXT writes in ISO 8601 (with a
    space or T between date and time), or None."""
    import datetime

    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        return datetime.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None


def _dates(column, name):
    """Return COLUMN converted to datetime64 when it contains dates: date
    objects (PostgreSQL) or, in a column named like the CDM's *_date and
    *_datetime columns, ISO text (SQLite, which has no date type). Dates
    out of datetime64's range (after 2262) stay date objects. Returns None
    for other columns."""
    import datetime

    import pandas

    values = column.dropna()
    if not len(values):
        return None
    if all(isinstance(v, datetime.date) for v in values):
        parsed = column
    elif (name.lower().endswith(("_date", "_datetime"))
          and all(isinstance(v, str) for v in values)):
        parsed = column.map(_parse_iso, na_action="ignore")
        if parsed.dropna().size != values.size:
            return None
    else:
        return None
    try:
        return pandas.to_datetime(parsed)
    except (ValueError, OverflowError):
        return parsed.astype(object)


def _frame(rows, names):
    import pandas

    frame = pandas.DataFrame.from_records(rows, columns=names)
    for index, name in enumerate(names):
        column = frame.iloc[:, index]
        if column.dtype == object:
            converted = _dates(column, str(name))
            if converted is not None:
                # By position, because two result columns may share a name.
                frame.isetitem(index, converted)
    return frame


def _run(sql, params):
    connection = _connect()
    bound, named = _bind(params)
    if backend() == "postgresql":
        import psycopg2

        schema = os.environ.get("OMOP_DB_SCHEMA", "") or CDM_SCHEMA
        text = _translate_postgresql(sql, named, schema)
        driver_error = psycopg2.Error
    else:
        import sqlite3

        text = sql
        driver_error = sqlite3.Error
    cursor = connection.cursor()
    try:
        if bound is None:
            cursor.execute(text)
        else:
            cursor.execute(text, bound)
        names = [column[0] for column in cursor.description or ()]
        rows = cursor.fetchall() if cursor.description else []
    except driver_error as error:
        raise Error(f"Query failed ({backend()}): {str(error).strip()}") from None
    finally:
        cursor.close()
    return rows, names


def query(sql, params=None):
    """Run SQL on the CDM through a read-only connection and return a
    pandas DataFrame. PARAMS is a sequence for ? placeholders or a mapping
    for :name placeholders; values are bound, never pasted into the text."""
    if not isinstance(sql, str) or not sql.strip():
        raise ValueError("sql must be a non-empty string")
    rows, names = _run(sql, params)
    return _frame(rows, names)


# ---------------------------------------------------------------------------
# The catalogue


def _load_catalogue():
    """Return {table: [columns in order]} for the CDM tables that exist."""
    global _catalogue
    if _catalogue is not None:
        return _catalogue
    if backend() == "sqlite":
        rows, _ = _run(f"SELECT m.name, p.name FROM {CDM_SCHEMA}.sqlite_master AS m, "
                       f"pragma_table_info(m.name, '{CDM_SCHEMA}') AS p "
                       "WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid", None)
    else:
        rows, _ = _run("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = current_schema() "
                       "ORDER BY table_name, ordinal_position", None)
    catalogue = {}
    for table_name, column_name in rows:
        if table_name.lower() in CDM_TABLES:
            catalogue.setdefault(table_name.lower(), []).append(column_name.lower())
    if not catalogue:
        raise Error("No CDM database is loaded: the database has no CDM tables. Create them "
                    "with omcp cdm init and load data with omcp cdm load.")
    _catalogue = catalogue
    return catalogue


def tables():
    """Return the names of the CDM tables present in the database."""
    return sorted(_load_catalogue())


def columns(name):
    """Return the column names of CDM table NAME in table order."""
    return list(_table_columns(name))


def _table_columns(name):
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"Invalid table name: {name!r}")
    catalogue = _load_catalogue()
    found = catalogue.get(name.lower())
    if found is None:
        raise ValueError(f"Invalid table name: {name!r} is not a CDM table in this database; "
                         f"omop.tables() lists them")
    return found


def table(name, columns=None, limit=None):
    """Return rows of CDM table NAME as a DataFrame, ordered by its first
    column (the primary key of the CDM tables that have one). COLUMNS
    selects columns by name; LIMIT caps the number of rows."""
    known = _table_columns(name)
    if columns is None:
        selected = list(known)
    else:
        if isinstance(columns, str):
            columns = [columns]
        selected = []
        for column in columns:
            if not isinstance(column, str) or column.lower() not in known:
                raise ValueError(f"Invalid column name: {column!r} is not a column of "
                                 f"{name.lower()}")
            selected.append(column.lower())
        if not selected:
            raise ValueError("columns must name at least one column")
    sql = (f"SELECT {', '.join(_quote(c) for c in selected)} "
           f"FROM {CDM_SCHEMA}.{_quote(name.lower())} ORDER BY {_quote(known[0])}")
    params = None
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(_plain(limit), int) or _plain(limit) < 0:
            raise ValueError(f"limit must be a non-negative integer, not {limit!r}")
        sql += " LIMIT ?"
        params = [_plain(limit)]
    return query(sql, params)


def concept_name(concept_id):
    """Return the name of concept CONCEPT_ID, or None when the vocabulary
    does not have it."""
    value = _plain(concept_id)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"concept_id must be an integer, not {concept_id!r}")
    rows, _ = _run(f"SELECT concept_name FROM {CDM_SCHEMA}.concept WHERE concept_id = ?",
                   [value])
    return rows[0][0] if rows else None
