# The analyses of the analyze_omop_data tool. The server runs this file in
# the caller's sandbox, followed by a line that calls main() with the
# analysis type, and returns the one JSON document it prints. The SQL is
# portable, so both backends return the same result: every ORDER BY names
# output columns alone and ends in concept_id, so ties sort the same way.
import json
import sys

import omop

# Concepts listed by the top-concept analyses.
TOP_N = 20

# Analysis type: (table, concept column) of the top-concept analyses.
TOP_CONCEPTS = {
    "conditions": ("condition_occurrence", "condition_concept_id"),
    "drugs": ("drug_exposure", "drug_concept_id"),
    "measurements": ("measurement", "measurement_concept_id"),
    "visits": ("visit_occurrence", "visit_concept_id"),
}

TYPES = ("basic", "demographics") + tuple(TOP_CONCEPTS)


def records(frame):
    """Rows of FRAME as dicts of plain Python values (JSON has no numpy)."""
    out = []
    for row in frame.itertuples(index=False):
        item = {}
        for name, value in zip(frame.columns, row):
            if value is None or value != value:
                item[name] = None
            elif hasattr(value, "item"):
                item[name] = value.item()
            else:
                item[name] = value
        out.append(item)
    return out


def count(sql):
    return int(omop.query(sql)["n"].iloc[0])


def basic():
    present = set(omop.tables())
    rows = {}
    for name in omop.CDM_TABLES:
        if name in present:
            rows[name] = count(f"SELECT COUNT(*) AS n FROM omop_cdm.{name}")
    return {"tables": rows, "total_rows": sum(rows.values())}


def by_concept(column):
    frame = omop.query(
        f"SELECT p.{column} AS concept_id, c.concept_name AS concept_name, COUNT(*) AS persons "
        f"FROM omop_cdm.person p LEFT JOIN omop_cdm.concept c ON c.concept_id = p.{column} "
        f"GROUP BY p.{column}, c.concept_name ORDER BY persons DESC, concept_id")
    return records(frame)


def demographics():
    decades = omop.query(
        "SELECT (year_of_birth / 10) * 10 AS decade, COUNT(*) AS persons "
        "FROM omop_cdm.person WHERE year_of_birth IS NOT NULL "
        "GROUP BY (year_of_birth / 10) * 10 ORDER BY decade")
    return {
        "persons": count("SELECT COUNT(*) AS n FROM omop_cdm.person"),
        "gender": by_concept("gender_concept_id"),
        "year_of_birth_decade": records(decades),
        "persons_without_year_of_birth":
            count("SELECT COUNT(*) AS n FROM omop_cdm.person WHERE year_of_birth IS NULL"),
        "race": by_concept("race_concept_id"),
        "ethnicity": by_concept("ethnicity_concept_id"),
    }


def top_concepts(table, column):
    totals = omop.query(f"SELECT COUNT(*) AS records, COUNT(DISTINCT person_id) AS persons "
                        f"FROM omop_cdm.{table}")
    top = omop.query(
        f"SELECT t.{column} AS concept_id, c.concept_name AS concept_name, "
        f"COUNT(DISTINCT t.person_id) AS persons, COUNT(*) AS records "
        f"FROM omop_cdm.{table} t LEFT JOIN omop_cdm.concept c ON c.concept_id = t.{column} "
        f"GROUP BY t.{column}, c.concept_name "
        f"ORDER BY persons DESC, records DESC, concept_id LIMIT ?", [TOP_N])
    return {
        "table": table,
        "records": int(totals["records"].iloc[0]),
        "persons": int(totals["persons"].iloc[0]),
        "distinct_concepts":
            count(f"SELECT COUNT(DISTINCT {column}) AS n FROM omop_cdm.{table}"),
        "top_concepts": records(top),
    }


def main(analysis_type):
    if analysis_type == "basic":
        result = basic()
    elif analysis_type == "demographics":
        result = demographics()
    elif analysis_type in TOP_CONCEPTS:
        result = top_concepts(*TOP_CONCEPTS[analysis_type])
    else:
        sys.exit("Unknown analysis type %r. Valid types: %s" % (analysis_type, ", ".join(TYPES)))
    print(json.dumps({"analysis_type": analysis_type, "backend": omop.backend(), **result},
                     sort_keys=True))
