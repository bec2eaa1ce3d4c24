"""One matter across channels, measured: precision and recall of the duplicate candidates, and
the cost of the suggestion work on the write path at a million stored cases.

``python -m bench.duplicate_bench [--quick] [--keep]``

1. **Quality.** The demo county (Shulan's 248 villages) in PostgreSQL schema ``bench_matters``.
   Disputes are generated as stories (two named parties, an object, a fact such as an amount or a
   duration) and each is reported two to four times through different channels (grid worker,
   12345, 信访, walk-in, 110, online) with reworded text, within five days, in the same village or
   a located report up to 300 m away (often across a village line), sometimes under a related
   category, sometimes by the same caller (phone). Look-alikes that are *not* duplicates are
   added: another dispute of the same kind in the same village in the same days, told with the
   same channel phrases; the same story words in a far village; and background cases at Shulan's
   daily rate. Every case goes through ``CaseService.submit`` (the real write path with its
   arrival check), and the stored suggestions are compared with the known groups:
   precision = suggested pairs that are one story / suggested pairs; recall = pairs of one story
   that were suggested / all such pairs. Goal: precision ≥ 0.8 at recall ≥ 0.8.
2. **Cost.** The same schema grown to 1 M cases by ``bench.volume``'s set-based insert (a year of
   a county 40× Shulan's rate, so a village's week holds ~150 cases), the last 30 days given
   descriptions, most cases a party key (≈ 0.8 M keys of 300 k people). Then arrivals are timed: each is
   inserted and ``ArrivalCheck.on_arrival`` (party keys, repeat-caller count, two index range
   scans, scoring, storing suggestions) is timed alone, inside the case's transaction, which is
   rolled back. Goal: ≤ 5 ms per case.

Writes ``bench/results/duplicates.json`` and prints a table. Schema ``bench_matters`` and Redis
namespace ``bench:matters`` (db 14) are dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import os

os.environ["MEDIATION_REDIS_NAMESPACE"] = "bench:matters"

import argparse
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from sqlalchemy import select, text

from bench import volume
from bench.schema import fresh_schema
from bench.table import Column, render
from dashboard.cases.casework import CaseDraft, new_case
from dashboard.cases.personal_data import clean_party
from dashboard.domain.similarity import distance_m
from dashboard.domain.vocabulary import Category, Source, Tier
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import cases
from data_access.database import make_engine
from data_access.models import Grid, MatterSuggestion, Township, Village

SCHEMA = "bench_matters"
RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20261205

SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "华军伟芳敏静丽强磊洋勇艳杰娟涛明超秀霞平刚桂英玉兰国庆建民志红春林海波"
OBJECTS: dict[str, list[str]] = {
    "land": ["宅基地边界", "承包地界线", "耕地灌溉水渠", "林地承包权", "自留地", "晾晒场"],
    "neighbour": ["院墙", "排水沟", "房屋采光", "柴草堆放", "家禽散养", "车库修建", "门前通道"],
    "labour_wages": ["工地工资", "务工报酬", "加班费", "装修工钱", "季节工工钱"],
    "debt": ["借款", "货款", "合伙分红", "粮款"],
    "property_mgmt": ["物业费", "电梯维修", "小区停车位", "供暖费"],
    "marriage_family": ["赡养老人", "离婚财产分割", "子女抚养费", "老宅继承"],
    "consumer": ["农资种子质量", "家电退货", "预付卡退款"],
    "traffic": ["农用车剐蹭", "电动车撞伤", "停车碰撞"],
    "environment": ["养殖场异味", "粉尘污染", "夜间施工噪音"],
    "demolition": ["征地补偿款", "拆迁安置房", "青苗补偿"],
    "medical": ["诊所用药", "术后感染"],
    "other": ["广场舞噪音", "宠物伤人"],
}
RELATED = {"land": "neighbour", "neighbour": "land", "labour_wages": "debt", "debt": "labour_wages",
           "demolition": "land", "traffic": "medical"}
CONFLICT = ["争执", "纠纷", "矛盾", "冲突", "争吵"]
VERB = ["占用", "侵占", "拖欠", "损坏", "影响", "拒不处理"]
ASK = ["请求调解", "要求处理", "希望尽快解决", "请有关部门协调", "要求给个说法"]
DIRECTION = ["东", "南", "西", "北", "东南", "西北"]
TEMPLATES: dict[Source, list[str]] = {
    Source.grid_report: ["网格员上报：{v}村民{A}与{B}因{obj}问题发生{c}，{d}，双方情绪激动，{ask}。{x}",
                         "网格巡查发现{A}、{B}两户{obj}{c}，{x}{d}，{ask}。"],
    Source.hotline_12345: ["市民来电反映，{B}{verb}其{obj}，{d}，{ask}。{x}", "来电人{A}称与{B}存在{obj}{c}，{x}{d}，{ask}。"],
    Source.petition: ["信访人{A}反映与{B}之间的{obj}{c}，{d}，多次协商未果，{x}{ask}。"],
    Source.walk_in: ["{A}到中心来访，称{B}{verb}{obj}，{d}，{ask}。{x}"],
    Source.police_110: ["110转来警情：{A}与{B}因{obj}{c}，{d}，民警已到场，{ask}。{x}"],
    Source.online: ["网上诉求：{obj}问题，{B}{verb}，{x}{d}，{ask}。"],
}
EXTRA = ["", "", "经初步核实，", "据当事人介绍，", "情况较为紧急，", "请予以关注。", "现场秩序尚可，", "已登记备案。"]
"""Phrases of reports the product's ``COMMON_PHRASES`` does not list: shared by different
disputes, they test that the comparison does not rest on knowing every phrase in advance."""
CHANNELS = list(TEMPLATES)


def log(message: str) -> None:
    volume.log(message)


@dataclass
class Place:
    grid: str
    village: str
    village_name: str
    lon: float
    lat: float


@dataclass
class Story:
    category: str
    a: str
    b: str
    obj: str
    fact: str


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice("某") + rng.choice(GIVEN)


def story(rng: random.Random, category: str | None = None) -> Story:
    category = category or rng.choice(list(OBJECTS))
    kind = rng.random()
    if kind < 0.33:
        fact = f"涉及金额约{rng.randint(2, 90)}{rng.choice(['千元', '万元'])}"
    elif kind < 0.66:
        fact = f"已持续{rng.randint(2, 30)}个{rng.choice(['月', '星期'])}"
    else:
        fact = f"位于{rng.choice(DIRECTION)}侧约{rng.randint(3, 200)}米处"
    return Story(category, person(rng), person(rng), rng.choice(OBJECTS[category]), fact)


def told(rng: random.Random, s: Story, source: Source, village: str) -> str:
    """One report of a story through one channel, reworded: phrases, names shortened, order."""
    a = s.a if rng.random() < 0.7 else s.a[0] + "某"
    b = s.b if rng.random() < 0.7 else s.b[0] + "某"
    return rng.choice(TEMPLATES[source]).format(v=village, A=a, B=b, obj=s.obj, c=rng.choice(CONFLICT),
                                                verb=rng.choice(VERB), d=s.fact, ask=rng.choice(ASK), x=rng.choice(EXTRA))


def phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


@dataclass
class Planned:
    draft: CaseDraft
    group: int | None
    phone: str | None
    kind: str


@dataclass
class QualityReport:
    cases: int
    groups: int
    true_pairs: int
    suggested_pairs: int
    true_suggested: int
    precision: float
    recall: float
    by_kind: dict[str, int] = field(default_factory=dict)


def places(rt: Runtime, county: str) -> list[Place]:
    """Every grid with its village and a point inside it (the grid box's centre)."""
    from data_access.matters import grid_boxes

    with rt.sessions() as session:
        boxes = grid_boxes(session, county)
        rows = session.execute(select(Grid.code, Village.code, Village.name).join(Village, Grid.village_code == Village.code)
                               .join(Township, Village.township_code == Township.code)
                               .where(Township.county_code == county)).all()
    return [Place(g, v, name, (boxes[g][0] + boxes[g][2]) / 2, (boxes[g][1] + boxes[g][3]) / 2) for g, v, name in rows
            if g in boxes]


def plan(rng: random.Random, where: list[Place], now: datetime, *, groups: int, lookalikes: int, far: int,
         background: int, days: int) -> list[Planned]:
    by_village: dict[str, list[Place]] = {}
    for p in where:
        by_village.setdefault(p.village, []).append(p)
    planned: list[Planned] = []
    n = 0

    def add(s: Story, category: str, source: Source, at: datetime, p: Place, located: bool, group: int | None,
            caller: str | None, kind: str) -> None:
        nonlocal n
        n += 1
        jitter_lon, jitter_lat = (rng.uniform(-0.0012, 0.0012), rng.uniform(-0.0009, 0.0009)) if located else (0, 0)
        planned.append(Planned(CaseDraft(
            source=source, external_ref=f"dup-{n}", category=Category(category), received_at=at, grid_code=p.grid,
            tier=Tier.village, people_involved=rng.choice([1, 2, 2, 3, 5]), description=told(rng, s, source, p.village_name),
            lon=p.lon + jitter_lon if located else None, lat=p.lat + jitter_lat if located else None),
            group, caller, kind))

    def when() -> datetime:
        return now - timedelta(days=rng.uniform(6, days), hours=rng.uniform(0, 10))

    for g in range(groups):
        s = story(rng)
        home = rng.choice(where)
        first = when()
        caller = phone(rng) if rng.random() < 0.6 else None
        channels = rng.sample(CHANNELS, rng.choice([2, 2, 3, 3, 4]))
        for i, source in enumerate(channels):
            at = first + timedelta(days=0 if i == 0 else rng.uniform(0, 5))
            category = s.category if rng.random() < 0.75 or s.category not in RELATED else RELATED[s.category]
            located = source in (Source.grid_report, Source.police_110) or rng.random() < 0.3
            p = home
            if located and rng.random() < 0.35:  # reported from a nearby grid, maybe across the village line
                near = [q for q in where if q.grid != home.grid and distance_m(q.lon, q.lat, home.lon, home.lat) < 1500]
                p = rng.choice(near) if near else home
            same_caller = caller if (caller and source in (Source.hotline_12345, Source.petition, Source.walk_in,
                                                           Source.online) and rng.random() < 0.5) else None
            add(s, category, source, at, p, located and p is home, g, same_caller, "duplicate")
            # a report from another grid is located at that grid's own centre only when it is near home
            if p is not home:
                d = planned[-1].draft
                lon, lat = home.lon + rng.uniform(-0.002, 0.002), home.lat + rng.uniform(-0.0015, 0.0015)
                planned[-1].draft = CaseDraft(**{**{f: getattr(d, f) for f in d.__dataclass_fields__},
                                                 "grid_code": p.grid, "lon": lon, "lat": lat})
        for _ in range(lookalikes // max(groups, 1)):  # another dispute of the same kind, same village, same days
            other = story(rng, s.category)
            source = rng.choice(CHANNELS)
            add(other, other.category, source, first + timedelta(days=rng.uniform(-3, 5)), rng.choice(by_village[home.village]),
                source in (Source.grid_report, Source.police_110), None, phone(rng) if rng.random() < 0.5 else None,
                "lookalike")
    for _ in range(far):  # the same words far away
        s = story(rng)
        a, b = rng.sample(where, 2)
        if distance_m(a.lon, a.lat, b.lon, b.lat) < 5000:
            continue
        at = when()
        add(s, s.category, rng.choice(CHANNELS), at, a, True, None, None, "far")
        add(s, s.category, rng.choice(CHANNELS), at + timedelta(days=1), b, True, None, None, "far")
    for _ in range(background):
        s = story(rng)
        source = rng.choice(CHANNELS)
        add(s, s.category, source, when(), rng.choice(where), source in (Source.grid_report, Source.police_110), None,
            phone(rng) if rng.random() < 0.5 else None, "background")
    planned.sort(key=lambda p: p.draft.received_at)
    return planned


def quality(rt: Runtime, county: str, now: datetime, *, quick: bool) -> QualityReport:
    rng = random.Random(SEED)
    where = places(rt, county)
    groups = 120 if quick else 400
    planned = plan(rng, where, now, groups=groups, lookalikes=groups, far=groups // 2,
                   background=1200 if quick else 4000, days=60)
    ids: dict[int, Planned] = {}
    started = time.perf_counter()
    for item in planned:
        party = clean_party(party_phone=item.phone) if item.phone else None
        case, _ = rt.cases.submit(item.draft, actor="bench", now=now, party=party)
        ids[case.id] = item
    log(f"quality: {len(planned):,} cases through the write path in {time.perf_counter() - started:.1f} s")
    members: dict[int, list[int]] = {}
    for case_id, item in ids.items():
        if item.group is not None:
            members.setdefault(item.group, []).append(case_id)
    truth = {frozenset(p) for group in members.values() for p in combinations(group, 2)}
    with rt.sessions() as session:
        suggested = {frozenset((s.case_id, s.other_id)) for s in session.scalars(select(MatterSuggestion))}
    hit = suggested & truth
    wrong: dict[str, int] = {}
    for pair in suggested - truth:
        kinds = sorted(ids[i].kind for i in pair)
        key = "+".join(kinds)
        wrong[key] = wrong.get(key, 0) + 1
    return QualityReport(len(planned), len(members), len(truth), len(suggested), len(hit),
                         round(len(hit) / len(suggested), 4) if suggested else 0.0,
                         round(len(hit) / len(truth), 4) if truth else 0.0, wrong)


@dataclass
class CostReport:
    stored_cases: int
    party_keys: int
    arrivals: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    compared_mean: float
    """Stored cases fetched and scored per arrival."""
    cpu_ms_mean: float
    """This process's CPU per arrival (the Python side); the rest of the time is the database and waiting."""
    round_trips_ms_mean: float
    """Three empty statements (``SELECT 1``) right after each arrival: the floor of the arrival's
    three round trips on this machine at that moment (a shared, loaded machine waits here)."""
    goal_ms: float = 5.0


def grow(env: volume.BenchEnv, target: int, now: datetime) -> None:
    volume.grow(env, target)
    with env.rt.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        rng = random.Random(SEED + 1)
        texts = [told(rng, story(rng), rng.choice(CHANNELS), "某村") for _ in range(5000)]
        conn.execute(text("CREATE TEMP TABLE bench_text (idx int primary key, body text)"))
        conn.execute(text("INSERT INTO bench_text VALUES (:i, :b)"), [{"i": i, "b": b} for i, b in enumerate(texts)])
        started = time.perf_counter()
        conn.execute(text("""UPDATE "case" c SET description = t.body || '（编号' || c.id || '）' FROM bench_text t
                             WHERE c.received_at >= :since AND t.idx = c.id % 5000"""),
                     {"since": (now - timedelta(days=30)).astimezone(UTC).replace(tzinfo=None)})
        conn.execute(text("""INSERT INTO party_key (case_id, key, county_code, received_at)
                             SELECT id, md5('p' || (hashtext(id::text) & 2147483647) % 300000), county_code, received_at
                             FROM "case" WHERE hashtext('k' || id::text) % 10 < 6"""))
        conn.execute(text('VACUUM (ANALYZE) "case"'))
        conn.execute(text("VACUUM (ANALYZE) party_key"))
        log(f"cost: descriptions of the last 30 days and party keys in {time.perf_counter() - started:.1f} s")


def cost(env: volume.BenchEnv, now: datetime, *, arrivals: int) -> CostReport:
    rt = env.rt
    check = rt.cases.arrival
    assert check is not None
    rng = random.Random(SEED + 2)
    where = places(rt, env.county)
    with rt.engine.connect() as conn:
        stored = int(conn.execute(text('SELECT count(*) FROM "case"')).scalar_one())
        keys = int(conn.execute(text("SELECT count(*) FROM party_key")).scalar_one())
        busy = [r[0] for r in conn.execute(text("""SELECT grid_code FROM "case" WHERE received_at >= :since
                                                   GROUP BY grid_code ORDER BY count(*) DESC LIMIT 200"""),
                                           {"since": (now - timedelta(days=7)).astimezone(UTC).replace(tzinfo=None)})]
    grids = {p.grid: p for p in where}
    timings: list[float] = []
    cpus: list[float] = []
    floors: list[float] = []
    scored: list[int] = []
    places_ = rt.cases.places()
    for i in range(arrivals + 20):
        p = grids[rng.choice(busy)] if rng.random() < 0.5 else rng.choice(where)  # half in the busiest grids
        s = story(rng)
        source = rng.choice(CHANNELS)
        draft = CaseDraft(source=source, external_ref=f"arrival-{i}", category=Category(s.category),
                          received_at=now - timedelta(minutes=5), grid_code=p.grid, description=told(rng, s, source, p.village_name),
                          lon=p.lon, lat=p.lat)
        case, event = new_case(draft, places_[p.grid], actor="bench", now=now, rules=rt.rules)
        if rng.random() < 0.6:
            case.party_phone = phone(rng)
        with rt.sessions() as session:
            cases.add(session, case, event)
            started, cpu = time.perf_counter(), time.process_time()
            found = check.on_arrival(session, case, now=now)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            started = time.perf_counter()
            for _ in range(3):  # what three empty round trips cost on this machine at this moment
                session.execute(text("SELECT 1"))
            floor = time.perf_counter() - started
            session.rollback()
        if i >= 20:  # the first arrivals warm the process (grid boxes, plans)
            timings.append(elapsed * 1000)
            cpus.append(cpu * 1000)
            floors.append(floor * 1000)
            scored.append(found.compared)
    timings.sort()
    return CostReport(stored, keys, len(timings), round(statistics.fmean(timings), 3), round(timings[len(timings) // 2], 3),
                      round(timings[int(len(timings) * 0.95)], 3), round(timings[-1], 3),
                      round(statistics.fmean(scored), 2), round(statistics.fmean(cpus), 3),
                      round(statistics.fmean(floors), 3))


def setup(now: datetime) -> volume.BenchEnv:
    url = fresh_schema(volume.BASE_URL, SCHEMA)
    var_dir = Path(tempfile.mkdtemp(prefix="mediation-bench-matters-"))
    rt = Runtime(Settings(database_url=url, redis_url=volume.REDIS_URL, var_dir=var_dir, scheduler=False,
                          party_key_secret="bench-secret"))
    volume.clear_redis(rt.redis)
    demo = (volume.DEMO_DIR / "shulan_220283_villages.csv").exists()
    generated, name, outline = volume.demo_county() if demo else volume.synthetic_county()
    with rt.sessions() as session, session.begin():
        report = onboarding.save_county(session, generated, name=name, now=now, outline_geojson=outline)
    log(f"county {report.county_code} {name}: {report.villages} villages, {report.grids} grids")
    return volume.BenchEnv(url, rt, report.county_code, now, var_dir)


def teardown(env: volume.BenchEnv) -> None:
    volume.clear_redis(env.rt.redis)
    env.close()
    admin = make_engine(volume.BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and 100 k stored instead of 1 M")
    parser.add_argument("--keep", action="store_true", help="keep schema bench_matters")
    parser.add_argument("--skip-cost", action="store_true", help="measure precision and recall only")
    parser.add_argument("--skip-quality", action="store_true", help="measure the write-path cost only")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    env = setup(now)
    try:
        q = None if args.skip_quality else quality(env.rt, env.county, now, quick=args.quick)
        c = None if args.skip_cost else (grow(env, 100_000 if args.quick else 1_000_000, now)
                                         or cost(env, now, arrivals=200 if args.quick else 1000))
    finally:
        if not args.keep:
            teardown(env)
    rules = env.rt.rules.matters
    result = {"at": now.isoformat(), "quick": args.quick, "machine": volume.machine_load(),
              "rules": {"min_score": rules.min_score, "window_days": rules.window_days, "distance_m": rules.distance_m},
              "quality": q.__dict__ if q else None, "cost": c.__dict__ if c else None,
              "goals": {"precision": 0.8, "recall": 0.8, "write_path_ms": 5.0}}
    RESULTS.mkdir(exist_ok=True)
    name = "duplicates" + ("-quick" if args.quick else "") + ("-cost" if args.skip_quality else "") + (
        "-quality" if args.skip_cost else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    rows = [] if q is None else [
        {"what": "precision (goal ≥ 0.8)", "value": q.precision},
        {"what": "recall (goal ≥ 0.8)", "value": q.recall},
        {"what": "true pairs / suggested / right", "value": f"{q.true_pairs} / {q.suggested_pairs} / {q.true_suggested}"}]
    if c:
        rows += [{"what": f"write-path suggestion work at {c.stored_cases:,} cases, mean ms (goal ≤ 5)", "value": c.mean_ms},
                 {"what": "p50 / p95 / max ms", "value": f"{c.p50_ms} / {c.p95_ms} / {c.max_ms}"},
                 {"what": "of which this process's CPU, mean ms", "value": c.cpu_ms_mean},
                 {"what": "three empty round trips (SELECT 1) at the same moments, mean ms", "value": c.round_trips_ms_mean},
                 {"what": "stored cases compared per arrival, mean", "value": c.compared_mean},
                 {"what": "load average at the end", "value": str(volume.machine_load()["loadavg"])}]
    print(render(rows, [Column("what", "measure"), Column("value", "value", ".4g")]))
    if q is not None:
        print("wrong suggestions by kind:", q.by_kind)


if __name__ == "__main__":
    main()
