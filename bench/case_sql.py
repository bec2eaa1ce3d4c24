"""The set-based SQL that generates a year of realistic cases inside PostgreSQL (``INSERT … SELECT``).

Shared by ``bench.volume`` (one county) and ``bench.province`` (90 counties): each chunk draws its
cases over a temporary table ``bench_grid`` (idx, grid_code, village_code, township_code,
county_code) with ``:grids`` rows, so whatever counties that table holds share the cases by their
grid counts. Kept apart from ``bench.volume`` because that module fixes the Redis namespace on import.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SOURCES = {"grid_report": 35, "hotline_12345": 25, "walk_in": 15, "online": 10, "petition": 6, "police_110": 5,
           "court": 3, "other": 1}
CATEGORIES = {"neighbour": 20, "marriage_family": 16, "land": 12, "labour_wages": 10, "debt": 9, "property_mgmt": 7,
              "consumer": 6, "traffic": 5, "demolition": 4, "environment": 4, "medical": 3, "other": 4}
TIERS = {"village": 80, "township": 15, "county": 5}
SATISFACTION = {"satisfied": 95, "neutral": 4, "dissatisfied": 1}


def pick(weights: dict[str, int], u: str) -> str:
    """SQL ``CASE`` choosing a key with probability proportional to its weight, from uniform ``u``."""
    total, running, arms = sum(weights.values()), 0, []
    for value, weight in list(weights.items())[:-1]:
        running += weight
        arms.append(f"WHEN {u} < {running / total!r} THEN '{value}'")
    return f"(CASE {' '.join(arms)} ELSE '{list(weights)[-1]}' END)"


CASE_COLUMNS = (
    "source, external_ref, category, description, people_involved, risk_extreme, risk_mass_incident, "
    "beyond_county_petition, repeat_petition, county_code, township_code, village_code, grid_code, lon, lat, "
    "status, tier, escalated, supervised, center_id, department_id, first_receiver, received_at, due_at, "
    "resolved_at, resolved_tier, outcome, followed_up_at, satisfaction, alert_level, alert_reasons, updated_at"
)

INSERT_SQL = f"""
WITH r AS (
    SELECT n, random() AS u_grid, random() AS u_day, random() AS u_hour_kind, random() AS u_hour,
           random() AS u_source, random() AS u_category, random() AS u_people, random() AS u_people_n,
           random() AS u_tier, random() AS u_delay1, random() AS u_delay2, random() AS u_stuck,
           random() AS u_follow, random() AS u_satisfaction, random() AS u_status, random() AS u_flag
    FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS n
), placed AS (
    SELECT r.*, g.grid_code, g.village_code, g.township_code, g.county_code,
           ((CAST(:today_local AS timestamp) - floor(u_day * 365) * interval '1 day'
             + (CASE WHEN u_hour_kind < 0.85 THEN 28800 + u_hour * 36000 ELSE u_hour * 86400 END) * interval '1 second')
            AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'UTC' AS picked
    FROM r JOIN bench_grid g ON g.idx = 1 + floor(:grids * power(r.u_grid, 1.6))::int
    OFFSET 0
), facts AS (
    SELECT p.*,
           CASE WHEN picked > :now THEN picked - interval '365 days' ELSE picked END AS received_at,
           {pick(SOURCES, "u_source")} AS source,
           {pick(CATEGORIES, "u_category")} AS category,
           {pick(TIERS, "u_tier")} AS tier,
           CASE WHEN u_people < 0.006 THEN 30 + floor(u_people_n * 51)::int
                WHEN u_people < 0.03 THEN 10 + floor(u_people_n * 20)::int
                ELSE (ARRAY[1, 1, 2, 3])[1 + floor(u_people_n * 4)::int] END AS people,
           exp(1.0 + 0.8 * sqrt(-2 * ln(1 - u_delay1)) * cos(2 * pi() * u_delay2)) * interval '1 day' AS delay,
           u_stuck < 0.002 AS stuck,
           u_flag BETWEEN 0.5 AND 0.5005 AS risk_mass
    FROM placed p
    OFFSET 0
), done AS (
    SELECT f.*,
           CASE WHEN stuck OR received_at + delay > :now THEN NULL ELSE received_at + delay END AS resolved_at,
           tier <> 'village' AND u_flag < 0.3 AS escalated,
           source = 'petition' AND u_flag > 0.9 AS repeat_petition
    FROM facts f
    OFFSET 0
), followed AS (
    SELECT d.*,
           CASE WHEN resolved_at IS NOT NULL AND u_follow < 0.9
                     AND resolved_at + (0.5 + 2.5 * u_follow / 0.9) * interval '1 day' <= :now
                THEN resolved_at + (0.5 + 2.5 * u_follow / 0.9) * interval '1 day' END AS followed_up_at
    FROM done d
    OFFSET 0
)
INSERT INTO "case" ({CASE_COLUMNS})
SELECT source, 'bench-' || n, category, '', people, false, risk_mass, false, repeat_petition,
       county_code, township_code, village_code, grid_code, NULL, NULL,
       CASE WHEN resolved_at IS NOT NULL THEN CASE WHEN followed_up_at IS NULL THEN 'resolved' ELSE 'followed_up' END
            WHEN :now - received_at < interval '1 day' AND u_status < 0.5 THEN 'received'
            ELSE (ARRAY['assessed', 'dispatched', 'mediating', 'mediating'])[1 + floor(u_status * 4)::int] END,
       tier, escalated, false, NULL, NULL, 'bench', received_at, received_at + interval '7 days',
       resolved_at, CASE WHEN resolved_at IS NOT NULL THEN tier END,
       CASE WHEN resolved_at IS NOT NULL THEN '调解成功' END,
       followed_up_at, CASE WHEN followed_up_at IS NOT NULL THEN {pick(SATISFACTION, "u_satisfaction")} END,
       CASE WHEN resolved_at IS NOT NULL THEN NULL
            WHEN people >= 30 OR risk_mass THEN 'red'
            WHEN people >= 10 OR repeat_petition THEN 'orange'
            WHEN escalated THEN 'yellow' ELSE 'blue' END,
       CASE WHEN resolved_at IS NOT NULL THEN ''
            ELSE concat_ws(',', CASE WHEN people >= 30 THEN 'people_red' END,
                           CASE WHEN risk_mass THEN 'risk_mass_incident' END,
                           CASE WHEN people BETWEEN 10 AND 29 THEN 'people_orange' END,
                           CASE WHEN repeat_petition THEN 'repeat_petition' END,
                           CASE WHEN escalated THEN 'escalated' END) END,
       coalesce(followed_up_at, resolved_at, received_at)
FROM followed
ORDER BY received_at
"""
"""One chunk of cases. Why each choice:

- receipt: a uniform local day of the last 365 Asia/Shanghai days, 85 % in office hours (08–18 local),
  converted to naive UTC as the column stores it; a pick later than ``now`` moves back a year;
- grid: a fixed shuffle of the county's grids with a power-law skew (busy town grids, quiet hills);
  village, township and county come from the grid's own parents;
- resolution delay: log-normal (median 2.7 days, 12 % past the 7-day deadline), so cases still open
  at ``now`` are the recent ones (≈1.0 %) plus a 0.2 % backlog of stuck cases: ≈1.2 % open;
- people: 0.6 % with 30–80 (red), 2.4 % with 10–29 (orange), the rest 1–3;
- follow-up with satisfaction for 90 % of resolved cases (95 % satisfied), ½–3 days after closure;
- each chunk is written in receipt order, like a table filled over time (recent rows cluster);
- ``OFFSET 0`` keeps each step a separate plan node, so a derived value is computed once per row
  rather than re-expanded into every expression that uses it.
"""


def secondary_objects(conn: Connection) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Indexes (name, CREATE statement) and constraints (name, definition) of ``case`` besides its key."""
    indexes = conn.execute(text("""
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = '"case"'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""")).all()
    constraints = conn.execute(text("""
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = '"case"'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname""")).all()
    return [(n, d) for n, d in indexes], [(n, d) for n, d in constraints]
