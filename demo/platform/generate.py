#!/usr/bin/env python3
"""Generate the Demo Co platform data set (files, logs and the CRM/billing source SQL).

Deterministic: one random.Random(42) drives everything, always in the same order, so
running the script twice writes byte-identical files. Standard library only.

    python3 demo/platform/generate.py          # writes next to this script
    python3 demo/platform/generate.py --summary  # also prints the facts tests assert on

The story date is 2026-11-28 (a Saturday); cloud costs run to the day before.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
import random

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
LOGS = HERE / "logs"

rng = random.Random(42)

TODAY = dt.date(2026, 11, 28)
AS_OF = dt.datetime(2026, 11, 28, 0, 0, 0)  # "now" for ages, overdue and SLA breaches
COST_START = dt.date(2026, 8, 1)
COST_END = dt.date(2026, 11, 27)
DOMAIN = "democo.example"


def days(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(x: float) -> str:
    return f"{x:.2f}"


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        assert len(r) == len(header), (path, r)
        w.writerow(["" if v is None else v for v in r])
    path.write_text(buf.getvalue(), encoding="utf-8")


# ---------------------------------------------------------------------------
# People: one roster shared by SSO, expenses, HR, sales owners.
# (name, title, department)
# ---------------------------------------------------------------------------
ROSTER = [
    ("Jordan Blake", "Chief Executive Officer", "Leadership"),
    ("Casey Chen", "Chief Technology Officer", "Leadership"),
    ("Frances Okafor", "Chief Financial Officer", "Leadership"),
    ("Ravi Patel", "Chief Revenue Officer", "Leadership"),
    ("Olivia Moreno", "Chief Operating Officer", "Leadership"),
    ("Dev Malhotra", "Head of Platform Engineering", "Engineering"),
    ("Sofia Rossi", "Data Engineering Lead", "Engineering"),
    ("Amara Nwosu", "Head of Security", "Engineering"),
    ("Kenji Watanabe", "SRE Lead", "Engineering"),
    ("Ben Carter", "IT Manager", "Engineering"),
    ("Lucas Ferreira", "Data Engineer", "Engineering"),
    ("Yuki Sato", "Data Engineer", "Engineering"),
    ("Noah Fischer", "Platform Engineer", "Engineering"),
    ("Isabel Cruz", "Platform Engineer", "Engineering"),
    ("Arjun Mehta", "ML Engineer", "Engineering"),
    ("Emma Larsen", "Security Engineer", "Engineering"),
    ("Daniel Kim", "Backend Engineer", "Engineering"),
    ("Zoe Adams", "Backend Engineer", "Engineering"),
    ("Nadia Haddad", "RevOps Lead", "Sales"),
    ("Hannah Whitfield", "Enterprise Account Executive", "Sales"),
    ("Marcus Bell", "Enterprise Account Executive", "Sales"),
    ("Priya Raman", "Enterprise Account Executive", "Sales"),
    ("Diego Alvarez", "Mid-Market Account Executive", "Sales"),
    ("Chloe Martin", "Mid-Market Account Executive", "Sales"),
    ("Samuel Osei", "Mid-Market Account Executive", "Sales"),
    ("Lena Novak", "SMB Account Executive", "Sales"),
    ("Ethan Brooks", "SMB Account Executive", "Sales"),
    ("Laura Schmidt", "Head of Customer Success", "Sales"),
    ("Omar Farouk", "Customer Success Manager", "Sales"),
    ("Julia Berg", "Customer Success Manager", "Sales"),
    ("Victor Huang", "Sales Engineer", "Sales"),
    ("Megan Doyle", "Sales Development Representative", "Sales"),
    ("Tariq Aziz", "Sales Development Representative", "Sales"),
    ("Grace Liu", "VP Support", "Operations"),
    ("Owen Price", "Platform Support Lead", "Operations"),
    ("Mei Tanaka", "Integrations Support Lead", "Operations"),
    ("Rosa Jimenez", "Billing Support Lead", "Operations"),
    ("Felix Wagner", "Onboarding Lead", "Operations"),
    ("Irene Costa", "Fulfilment Manager", "Operations"),
    ("Paul Dubois", "Vendor Manager", "Operations"),
    ("Aiden Walsh", "Support Engineer", "Operations"),
    ("Fatima Said", "Support Engineer", "Operations"),
    ("Leo Marchetti", "Support Engineer", "Operations"),
    ("Hana Kovac", "Support Engineer", "Operations"),
    ("Sean Murphy", "Support Engineer", "Operations"),
    ("Nina Petrova", "Onboarding Specialist", "Operations"),
    ("Carlos Mendes", "Onboarding Specialist", "Operations"),
    ("Ingrid Holm", "Billing Specialist", "Operations"),
    ("Martin Keller", "Controller", "Finance"),
    ("Aisha Rahman", "FP&A Lead", "Finance"),
    ("Gwen Foster", "AR and Collections Manager", "Finance"),
    ("Tobias Lindqvist", "FinOps Analyst", "Finance"),
    ("Helen Park", "AP Specialist", "Finance"),
    ("Simone Laurent", "Procurement Manager", "Finance"),
    ("Ruth Abara", "People Operations Lead", "People"),
    ("Elena Vasquez", "Legal Counsel", "Legal"),
    ("Maya Singh", "Marketing Manager", "Marketing"),
    ("Kofi Mensah", "Marketing Operations Specialist", "Marketing"),
    ("Sara Lindgren", "Product Manager", "Product"),
    ("Tom Becker", "Product Manager", "Product"),
]
assert len(ROSTER) == 60


def email_of(name: str) -> str:
    return name.lower().replace(" ", ".") + "@" + DOMAIN


EMAILS = [email_of(n) for n, _, _ in ROSTER]
DEPT = {email_of(n): d for n, _, d in ROSTER}

# ---------------------------------------------------------------------------
# Cloud costs
# ---------------------------------------------------------------------------
# (cloud, account, product, resource, base_usd_per_day, team, env, cpu_mean, kind, first_day)
# kind: "normal" noisy cost; "steady" constant cost (idle resources);
# cpu_mean None -> avg_cpu_pct empty (not a compute product).
RESOURCES = [
    ("aws", "prod-core", "EC2", "api-prod-asg", 1700.0, "platform", "prod", 46.0, "normal", COST_START),
    ("aws", "prod-core", "RDS", "orders-db-prod", 950.0, "platform", "prod", 38.0, "normal", COST_START),
    ("aws", "prod-core", "S3", "customer-exports-prod", 300.0, "platform", "prod", None, "normal", COST_START),
    ("aws", "prod-core", "CloudFront", "cdn-tracking-portal", 2000.0, "platform", "prod", None, "normal", COST_START),
    ("aws", "prod-data", "Redshift", "dw-prod-cluster", 1250.0, "data-eng", "prod", 55.0, "normal", COST_START),
    ("aws", "prod-data", "EC2", "etl-workers-prod", 700.0, "data-eng", "prod", 61.0, "normal", COST_START),
    ("aws", "prod-data", "S3", "datalake-raw", 350.0, "data-eng", "prod", None, "normal", COST_START),
    ("aws", "prod-data", "OpenAI API", "openai-marketplace-sub", 1000.0, "ai-platform", "prod", None, "normal", COST_START),
    ("aws", "prod-data", "EC2", "i-0f3c9e7a21b4d8e55", 184.32, "", "prod", 27.0, "normal", dt.date(2026, 9, 14)),
    ("aws", "staging", "EC2", "api-staging-asg", 340.0, "platform", "staging", 17.0, "normal", COST_START),
    ("aws", "staging", "RDS", "orders-db-staging-old", 209.28, "platform", "staging", 1.2, "steady", COST_START),
    ("aws", "ml-sandbox", "EC2", "gpu-train-p3-8xl-01", 293.76, "ml", "sandbox", 1.4, "steady", COST_START),
    ("gcp", "analytics-prod", "BigQuery", "bq-analytics-warehouse", 1900.0, "data-eng", "prod", None, "normal", COST_START),
    ("gcp", "analytics-prod", "GKE", "gke-ingest-cluster", 1750.0, "integrations", "prod", 52.0, "normal", COST_START),
]
CLOUDFRONT_SPIKE = {dt.date(2026, 11, 18): 3.2, dt.date(2026, 11, 19): 2.9}
OPENAI_STEP_FROM = dt.date(2026, 11, 10)
OPENAI_STEP = 1.6

# Monthly budgets (USD) per account (see knowledge/budget-process.md). Q3 2026 was
# USD 1.2M: July 388,000 + August 406,000 + September 406,000. prod-data was cut to
# 105,000 for November (Q4 efficiency target) and is over it before the month ends.
BUDGETS = {
    "prod-core": [158000, 158000, 165000, 172000],
    "prod-data": [108000, 108000, 118000, 105000],
    "staging": [17500, 17500, 18000, 18000],
    "ml-sandbox": [9500, 9500, 9500, 9500],
    "analytics-prod": [113000, 113000, 120000, 122000],
}
BUDGET_MONTHS = [dt.date(2026, m, 1) for m in (8, 9, 10, 11)]


def gen_cloud_costs():
    rows = []
    for day in days(COST_START, COST_END):
        n = (day - COST_START).days
        growth = 1.0 + 0.0006 * n
        weekend = day.weekday() >= 5
        for cloud, acct, product, res, base, team, env, cpu, kind, first in RESOURCES:
            # Draw the noise for every resource every day, even before it exists,
            # so the random stream never depends on which resources are live.
            noise = rng.gauss(0.0, 0.03)
            cpu_noise = rng.gauss(0.0, 1.0)
            if day < first:
                continue
            if kind == "steady":
                cost = base
            else:
                cost = base * growth * (1.0 + noise)
                if product == "BigQuery" and weekend:
                    cost *= 0.85
                if product == "CloudFront" and day in CLOUDFRONT_SPIKE:
                    cost *= CLOUDFRONT_SPIKE[day]
                if product == "OpenAI API" and day >= OPENAI_STEP_FROM:
                    cost *= OPENAI_STEP
            if cpu is None:
                cpu_s = ""
            elif kind == "steady":
                cpu_s = f"{min(2.9, max(0.3, cpu + 0.5 * cpu_noise)):.1f}"
            else:
                c = cpu * (0.8 if weekend else 1.0) + 4.0 * cpu_noise
                cpu_s = f"{max(8.0, c):.1f}"
            rows.append([day.isoformat(), cloud, acct, product, res, money(cost), team, env, cpu_s])
    return rows


def gen_budgets():
    rows = []
    for i, m in enumerate(BUDGET_MONTHS):
        for acct in BUDGETS:
            rows.append([m.isoformat(), acct, money(BUDGETS[acct][i])])
    return rows


# ---------------------------------------------------------------------------
# CRM accounts (shared by tickets, opportunities, invoices)
# ---------------------------------------------------------------------------
NAME_A = ["Northgate", "Cobalt", "Silverline", "Redwood", "Bramble", "Granite", "Tidewater",
          "Lakeshore", "Ironbridge", "Sunfield", "Harrow", "Copperleaf", "Westmark", "Bluestone",
          "Oakhurst", "Marlow", "Fernbrook", "Highpoint", "Cedarline", "Stonebay", "Windmere",
          "Quayside", "Ashford", "Kingsway", "Brightwater", "Millbrook", "Pennant", "Larkspur",
          "Ridgeview", "Saltmarsh", "Everly", "Foxhollow", "Glenmore", "Thornbury", "Valewood",
          "Wrenfield", "Yarrow", "Alderbank", "Beacon Hill", "Crestmoor"]
NAME_B = ["Freight", "Cold Chain", "Logistics", "Distribution", "Retail Group", "Manufacturing",
          "Foods", "Pharma Supply", "Auto Parts", "Wholesale", "Transport", "Home Goods",
          "Fulfilment", "Trading", "Carriers", "Industrial", "Outfitters", "Provisions"]
INDUSTRY_OF = {
    "Freight": "Transportation", "Cold Chain": "Food & Beverage", "Logistics": "3PL",
    "Distribution": "Wholesale", "Retail Group": "Retail", "Manufacturing": "Manufacturing",
    "Foods": "Food & Beverage", "Pharma Supply": "Pharmaceuticals", "Auto Parts": "Automotive",
    "Wholesale": "Wholesale", "Transport": "Transportation", "Home Goods": "Retail",
    "Fulfilment": "3PL", "Trading": "Wholesale", "Carriers": "Transportation",
    "Industrial": "Manufacturing", "Outfitters": "Retail", "Provisions": "Food & Beverage",
}
FIRST = ["Jane", "Michael", "Aaliyah", "Peter", "Sunita", "Gregor", "Lucia", "Henrik", "Amelia",
         "Rahul", "Claire", "Mateo", "Ingrid", "Kwame", "Olga", "Patrick", "Mina", "Stefan",
         "Rebecca", "Tomasz", "Yara", "William", "Sakura", "Felipe", "Anneliese", "Desmond",
         "Freya", "Hugo", "Imani", "Joaquin", "Katrin", "Liam", "Noor", "Oscar", "Renata",
         "Siobhan", "Theo", "Ulrike", "Vera", "Wendell"]
LAST = ["Doe", "Hargreaves", "Fontaine", "Brennan", "Iyer", "Lindahl", "Moretti", "Sandoval",
        "Whitaker", "Kowalski", "Nakamura", "Obi", "Petersen", "Quinn", "Richter", "Delgado",
        "Thornton", "Ueda", "Vogel", "Winslow", "Yilmaz", "Zimmer", "Ashworth", "Bauer",
        "Castellano", "Dubrovsky", "Eriksen", "Fairbanks", "Gallagher", "Holloway", "O'Neill",
        "Jablonski", "Kaur", "Lombardi", "Mwangi", "Novotny", "Osterberg", "Prescott"]
COUNTRIES = [("US", 0.55), ("CA", 0.10), ("GB", 0.20), ("DE", 0.15)]
SEGMENTS = [("Enterprise", 0.25), ("Mid-Market", 0.40), ("SMB", 0.35)]


def pick_weighted(options):
    x = rng.random()
    acc = 0.0
    for v, w in options:
        acc += w
        if x < acc:
            return v
    return options[-1][0]


def phone_for(country: str) -> str:
    # Ranges reserved for fiction: NANP 555-01XX, Ofcom 020 7946 0xxx, DE 030 23125 xxx.
    if country in ("US", "CA"):
        area = rng.choice(["415", "312", "617", "206", "512", "404"] if country == "US"
                          else ["416", "604", "514"])
        return f"+1{area}55501{rng.randint(0, 99):02d}"
    if country == "GB":
        return f"+44207946{rng.randint(0, 999):04d}"
    return f"+493023125{rng.randint(0, 999):03d}"


def slug(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s.lower()).strip("-").replace("--", "-")


def gen_accounts():
    accounts = []
    used = []
    i = 0
    while len(accounts) < 80:
        a = rng.choice(NAME_A)
        b = rng.choice(NAME_B)
        name = f"{a} {b}"
        if name in used:
            continue
        used.append(name)
        i += 1
        segment = pick_weighted(SEGMENTS)
        country = pick_weighted(COUNTRIES)
        fn = rng.choice(FIRST)
        ln = rng.choice(LAST)
        local = f"{fn}.{ln}".lower().replace("'", "")
        email = f"{local}@{slug(name)}.example.com"
        created = dt.date(2022, 1, 10) + dt.timedelta(days=rng.randint(0, 1300))
        accounts.append({
            "account_id": f"ACC-{i:04d}", "account_name": name, "segment": segment,
            "industry": INDUSTRY_OF[b], "contact_name": f"{fn} {ln}",
            "contact_email": email, "contact_phone": phone_for(country),
            "country": country, "created_at": created,
        })
    # The demo needs a contact with an apostrophe to exercise SQL quoting.
    accounts[6]["contact_name"] = "Siobhan O'Neill"
    accounts[6]["contact_email"] = f"siobhan.oneill@{slug(accounts[6]['account_name'])}.example.com"
    return accounts


# ---------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------
TEAMS = [("Platform", 0.30), ("Integrations", 0.30), ("Billing", 0.20), ("Onboarding", 0.20)]
STUCK_TEAMS = [("Platform", 0.25), ("Integrations", 0.50), ("Billing", 0.10), ("Onboarding", 0.15)]
BREACH_P = {"Platform": 0.045, "Integrations": 0.10, "Billing": 0.015, "Onboarding": 0.035}
PRIORITIES = [(1, 0.05), (2, 0.20), (3, 0.50), (4, 0.25)]
SLA_HOURS = {1: 8, 2: 72, 3: 240, 4: 480}  # resolution targets in calendar hours
CHANNELS = [("email", 0.40), ("portal", 0.30), ("chat", 0.20), ("phone", 0.10)]
V1_EXPORTED = dt.datetime(2026, 11, 26, 0, 0, 0)
V2_EXPORTED = AS_OF
TICKET_START = dt.datetime(2026, 8, 1, 0, 0, 0)


def random_open_time(lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
    span = int((hi - lo).total_seconds())
    t = lo + dt.timedelta(seconds=rng.randint(0, span - 1))
    # Business hours are busier: pull two thirds of tickets into 08:00-18:00.
    if rng.random() < 0.66:
        t = t.replace(hour=rng.randint(8, 17))
    return t


def gen_tickets(accounts):
    cust = [a["account_name"] for a in accounts]
    tickets = []

    def make(tid, lo, hi, export_time, stuck=False, backlog=False):
        team = pick_weighted(STUCK_TEAMS if stuck else TEAMS)
        prio = pick_weighted(PRIORITIES)
        sla = SLA_HOURS[prio]
        breach = rng.random() < BREACH_P[team]
        channel = pick_weighted(CHANNELS)
        customer = rng.choice(cust)
        u1 = rng.random()
        u2 = rng.random()
        opened = random_open_time(lo, hi)
        if stuck:
            # Old tickets that nobody closed: various ages, all past their target.
            prio = rng.choice([3, 3, 4, 2])
            sla = SLA_HOURS[prio]
            age_h = sla * (1.1 + 1.5 * u1)
            opened = (AS_OF - dt.timedelta(hours=age_h)).replace(microsecond=0)
            opened = opened - dt.timedelta(seconds=opened.second)
            status = "open" if u2 < 0.8 else "pending"
            return [tid, opened, None, prio, team, status, customer, sla, channel]
        if backlog:
            # Recent tickets still being worked, inside their target.
            prio = rng.choice([3, 3, 4])
            sla = SLA_HOURS[prio]
            opened = (export_time - dt.timedelta(hours=(sla - 60) * u1)).replace(microsecond=0)
            opened = opened - dt.timedelta(seconds=opened.second)
            status = "open" if u2 < 0.85 else "pending"
            return [tid, opened, None, prio, team, status, customer, sla, channel]
        if breach:
            dur_h = sla * (1.05 + 1.6 * u1)
        else:
            dur_h = sla * (0.04 + 0.9 * u1)
        resolved = opened + dt.timedelta(hours=dur_h)
        resolved = resolved.replace(microsecond=0)
        if resolved >= export_time:
            status = "open" if u2 < 0.82 else "pending"
            return [tid, opened, None, prio, team, status, customer, sla, channel]
        return [tid, opened, resolved, prio, team, "resolved", customer, sla, channel]

    n = 10001
    # 550 regular tickets spread over the period up to the v1 export.
    for _ in range(550):
        tickets.append(make(f"TCK-{n}", TICKET_START, V1_EXPORTED - dt.timedelta(hours=1), V1_EXPORTED))
        n += 1
    # 16 stuck tickets, opened weeks ago and never closed.
    for _ in range(16):
        tickets.append(make(f"TCK-{n}", TICKET_START, V1_EXPORTED, V1_EXPORTED, stuck=True))
        n += 1
    # 20 recent tickets in the backlog, still within target.
    for _ in range(20):
        tickets.append(make(f"TCK-{n}", TICKET_START, V1_EXPORTED, V1_EXPORTED, backlog=True))
        n += 1
    tickets.sort(key=lambda r: r[1])
    # Renumber in opening order so ids grow with time.
    for i, t in enumerate(tickets):
        t[0] = f"TCK-{10001 + i}"
    v1 = tickets
    newer = []
    for _ in range(20):
        newer.append(make("", V1_EXPORTED, V2_EXPORTED - dt.timedelta(hours=2), V2_EXPORTED))
    newer.sort(key=lambda r: r[1])
    for i, t in enumerate(newer):
        t[0] = f"TCK-{10001 + len(v1) + i}"
    return v1, newer


def ticket_breached(t) -> bool:
    opened, resolved, sla = t[1], t[2], t[7]
    end = resolved if resolved is not None else AS_OF
    return (end - opened).total_seconds() / 3600.0 > sla


# ---------------------------------------------------------------------------
# Shipments
# ---------------------------------------------------------------------------
# vendor -> (shipments, late deliveries among delivered, overdue in transit,
#            promise in days from order to delivery: min, max)
VENDORS = {
    "Kestrel Components": (60, 19, 2, 8, 10),
    "Harbor Electronics": (70, 3, 0, 6, 8),
    "Bluefin Industrial": (60, 1, 0, 6, 8),
    "Alder Devices": (55, 2, 0, 8, 10),
    "Pinecrest Supply": (55, 5, 0, 5, 7),
}
CARRIERS = ["Swiftline Parcel", "Meridian Freight", "Northstar Express"]


def gen_shipments():
    out = []
    for vendor, (count, late_delivered, overdue_transit, lead_lo, lead_hi) in VENDORS.items():
        in_transit = 4 + overdue_transit
        delivered = count - in_transit
        late_idx = sorted(rng.sample(range(delivered), late_delivered))
        for k in range(count):
            carrier = rng.choice(CARRIERS)
            lead = rng.randint(lead_lo, lead_hi)
            if k < delivered:
                order = dt.date(2026, 8, 3) + dt.timedelta(days=rng.randint(0, 94))
                promised = order + dt.timedelta(days=lead)
                shipped = order + dt.timedelta(days=rng.randint(1, 3))
                if k in late_idx:
                    delivered_on = promised + dt.timedelta(days=rng.randint(1, 9))
                else:
                    delivered_on = min(promised, shipped + dt.timedelta(days=rng.randint(2, lead - 2)))
                    delivered_on = max(delivered_on, shipped + dt.timedelta(days=1))
                status = "delivered"
            else:
                if k >= count - overdue_transit:
                    order = TODAY - dt.timedelta(days=rng.randint(14, 18))
                    promised = order + dt.timedelta(days=lead)
                    shipped = order + dt.timedelta(days=rng.randint(2, 3))
                else:
                    order = TODAY - dt.timedelta(days=rng.randint(2, 5))
                    promised = order + dt.timedelta(days=lead)
                    shipped = order + dt.timedelta(days=1)
                delivered_on = None
                status = "in_transit"
            out.append({
                "order_date": order.isoformat(), "promised_date": promised.isoformat(),
                "shipped_date": shipped.isoformat(),
                "delivered_date": delivered_on.isoformat() if delivered_on else None,
                "vendor": vendor, "carrier": carrier, "status": status,
            })
    out.sort(key=lambda s: (s["order_date"], s["vendor"], s["promised_date"]))
    result = []
    for i, s in enumerate(out):
        result.append({"shipment_ref": f"SHP-2026-{i + 1:05d}", **s})
    return result


# ---------------------------------------------------------------------------
# Opportunities
# ---------------------------------------------------------------------------
REPS = {
    "Enterprise": ["hannah.whitfield", "marcus.bell", "priya.raman"],
    "Mid-Market": ["diego.alvarez", "chloe.martin", "samuel.osei"],
    "SMB": ["lena.novak", "ethan.brooks"],
}
# Territories (knowledge/territories-and-segments.md): EMEA Enterprise and Mid-Market
# accounts belong to Priya Raman and Samuel Osei; North American ones to the NA East or
# West rep; SMB accounts are shared round-robin.
NA_REPS = {"Enterprise": ["hannah.whitfield", "marcus.bell"],
           "Mid-Market": ["diego.alvarez", "chloe.martin"], "SMB": ["lena.novak", "ethan.brooks"]}
EMEA_REPS = {"Enterprise": ["priya.raman"], "Mid-Market": ["samuel.osei"],
             "SMB": ["lena.novak", "ethan.brooks"]}
AMOUNT = {"Enterprise": (90000, 420000), "Mid-Market": (25000, 95000), "SMB": (6000, 24000)}
PRODUCTS = ["DemoTrack", "DemoDock", "Route Optimizer", "Carrier Hub", "DemoTrack + DemoDock"]
OPEN_STAGES = ["prospecting", "qualification", "proposal", "negotiation"]
Q4_START = dt.date(2026, 10, 1)
Q4_END = dt.date(2026, 12, 31)


def round_amount(x: float) -> float:
    return round(x / 500.0) * 500.0


def gen_opportunities(accounts):
    opps = []
    owner_of = {}
    for a in accounts:
        pool = EMEA_REPS if a["country"] in ("GB", "DE") else NA_REPS
        owner_of[a["account_id"]] = rng.choice(pool[a["segment"]]) + "@" + DOMAIN

    by_segment = {seg: [a for a in accounts if a["segment"] == seg] for seg, _ in SEGMENTS}

    def account(mix=None):
        if mix is None:
            return rng.choice(accounts)
        return rng.choice(by_segment[pick_weighted(mix)])

    def add(acct, stage, created, close, changed):
        seg = acct["segment"]
        lo, hi = AMOUNT[seg]
        amount = round_amount(rng.uniform(lo, hi))
        owner = owner_of[acct["account_id"]]
        kind = rng.choice(["New Business", "Expansion", "Expansion", "New Business", "Upsell"])
        name = f"{acct['account_name']} - {rng.choice(PRODUCTS)} {kind}"
        opps.append({"account_id": acct["account_id"], "opp_name": name, "stage": stage,
                     "amount": amount, "owner_email": owner, "created_on": created,
                     "close_date": close, "stage_changed_on": changed, "segment": seg})

    q4_mix = [("Enterprise", 0.30), ("Mid-Market", 0.40), ("SMB", 0.30)]
    open_mix = [("Enterprise", 0.40), ("Mid-Market", 0.35), ("SMB", 0.25)]
    # Closed before Q4.
    for _ in range(84):
        acct = account()
        close = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 267))
        created = close - dt.timedelta(days=rng.randint(30, 150))
        stage = "closed_won" if rng.random() < 0.33 else "closed_lost"
        add(acct, stage, created, close, close)
    # Closed in Q4 so far.
    for _ in range(56):
        acct = account(q4_mix)
        close = Q4_START + dt.timedelta(days=rng.randint(0, 57))
        created = close - dt.timedelta(days=rng.randint(30, 150))
        stage = "closed_won" if rng.random() < 0.55 else "closed_lost"
        add(acct, stage, created, close, close)
    # Open deals closing in the rest of Q4.
    for _ in range(58):
        acct = account(open_mix)
        close = TODAY + dt.timedelta(days=rng.randint(2, 33))
        stage = rng.choice(OPEN_STAGES[1:] + ["negotiation", "proposal"])
        changed = TODAY - dt.timedelta(days=rng.randint(1, 45))
        created = changed - dt.timedelta(days=rng.randint(10, 120))
        add(acct, stage, created, close, changed)
    # Open deals closing in Q1 2027.
    for _ in range(28):
        acct = account()
        close = dt.date(2027, 1, 8) + dt.timedelta(days=rng.randint(0, 80))
        stage = rng.choice(OPEN_STAGES)
        changed = TODAY - dt.timedelta(days=rng.randint(1, 50))
        created = changed - dt.timedelta(days=rng.randint(5, 90))
        add(acct, stage, created, close, changed)
    # Slipped: still open with a close date already in the past.
    for _ in range(12):
        acct = account(open_mix)
        close = dt.date(2026, 10, 20) + dt.timedelta(days=rng.randint(0, 36))
        stage = rng.choice(["proposal", "negotiation", "negotiation", "qualification"])
        changed = close - dt.timedelta(days=rng.randint(3, 20))
        created = changed - dt.timedelta(days=rng.randint(20, 100))
        add(acct, stage, created, close, changed)
    # Stuck: open, stage unchanged for more than 60 days, close date still ahead.
    for _ in range(12):
        acct = account(open_mix)
        close = TODAY + dt.timedelta(days=rng.randint(5, 60))
        stage = rng.choice(["qualification", "proposal", "proposal", "negotiation"])
        changed = TODAY - dt.timedelta(days=rng.randint(64, 130))
        created = changed - dt.timedelta(days=rng.randint(10, 60))
        add(acct, stage, created, close, changed)
    opps.sort(key=lambda o: (o["created_on"], o["account_id"]))
    for i, o in enumerate(opps):
        o["opp_id"] = f"OPP-{i + 1:04d}"
    return opps


# ---------------------------------------------------------------------------
# Invoices
# ---------------------------------------------------------------------------
CURRENCY = {"US": "USD", "CA": "USD", "GB": "GBP", "DE": "EUR"}
ANNUAL_VALUE = {"Enterprise": (180000, 520000), "Mid-Market": (45000, 140000), "SMB": (9000, 30000)}


def gen_invoices(accounts):
    plans = []
    for a in accounts:
        plans.append(rng.choice(["monthly", "quarterly", "quarterly", "annual", "quarterly"]))
    # Make exactly 20 monthly, 40 quarterly, 20 annual accounts -> 220 + 160 + 20 = 400.
    order = list(range(len(accounts)))
    rng.shuffle(order)
    for rank, idx in enumerate(order):
        plans[idx] = "monthly" if rank < 20 else ("quarterly" if rank < 60 else "annual")
    slow_payers = sorted(rng.sample(range(len(accounts)), 10))
    # Three quarterly-billed accounts stopped paying from July on.
    delinquent = sorted([i for i in order if plans[i] == "quarterly"][:3])
    invoices = []
    for idx, a in enumerate(accounts):
        lo, hi = ANNUAL_VALUE[a["segment"]]
        annual = rng.uniform(lo, hi)
        plan = plans[idx]
        if plan == "monthly":
            months = list(range(1, 12))
            amount = annual / 12
        elif plan == "quarterly":
            months = [1, 4, 7, 10]
            amount = annual / 4
        else:
            months = [rng.randint(1, 11)]
            amount = annual
        for m in months:
            issued = dt.date(2026, m, 1) + dt.timedelta(days=rng.randint(0, 4))
            due = issued + dt.timedelta(days=30)
            slow = idx in slow_payers
            delay = rng.randint(45, 140) if slow else max(3, int(rng.gauss(27, 8)))
            if rng.random() < 0.04:
                delay = rng.randint(61, 95)
            if idx in delinquent and issued >= dt.date(2026, 7, 1):
                delay = 400
            paid = issued + dt.timedelta(days=delay)
            if paid >= TODAY:
                paid_on = None
                status = "overdue" if due < TODAY else "open"
            else:
                paid_on = paid
                status = "paid"
            invoices.append({"account_id": a["account_id"], "amount_due": round(amount, 2),
                             "currency": CURRENCY[a["country"]], "issued_on": issued,
                             "due_on": due, "paid_on": paid_on, "status": status})
    invoices.sort(key=lambda v: (v["issued_on"], v["account_id"]))
    for i, v in enumerate(invoices):
        v["invoice_no"] = f"INV-2026-{i + 1:04d}"
    return invoices, [accounts[i]["account_id"] for i in delinquent]


# ---------------------------------------------------------------------------
# Payment methods (fake, checksum-valid) and HR
# ---------------------------------------------------------------------------
def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # positions that get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(digits) % 97:02d}"


def iban_valid(iban: str) -> bool:
    s = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


TEST_BINS = ["411111", "401288", "555555", "510510", "400005", "222300"]


def gen_payment_methods(accounts):
    rows = []
    chosen = sorted(rng.sample(range(len(accounts)), 20))
    for idx in chosen:
        a = accounts[idx]
        partial = rng.choice(TEST_BINS) + "".join(str(rng.randint(0, 9)) for _ in range(9))
        card = partial + luhn_check_digit(partial)
        if a["country"] == "GB" or (a["country"] in ("US", "CA") and rng.random() < 0.5):
            bban = "DEMO" + f"{rng.randint(100000, 999999)}" + f"{rng.randint(10000000, 99999999)}"
            iban = "GB" + iban_check_digits("GB", bban) + bban
        else:
            bban = f"{rng.choice([37040044, 50010517, 20041133, 10070000])}" + f"{rng.randint(0, 9999999999):010d}"
            iban = "DE" + iban_check_digits("DE", bban) + bban
        assert luhn_valid(card) and iban_valid(iban)
        rows.append({"account_id": a["account_id"], "card_number": card, "iban": iban,
                     "holder_name": a["contact_name"]})
    return rows


HR_TEAMS = {"Leadership": "Leadership", "Engineering": "Engineering", "Sales": "Sales",
            "Operations": "Support & Operations", "Finance": "Finance", "People": "G&A",
            "Legal": "G&A", "Marketing": "Marketing", "Product": "Product"}


def gen_employees():
    rows = []
    picked = sorted(rng.sample(range(len(ROSTER)), 40))
    for n, idx in enumerate(picked):
        name, _, dept = ROSTER[idx]
        area = rng.randint(1, 665)
        if area == 666 or area == 0:
            area = 123
        ssn = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        hired = dt.date(2019, 3, 1) + dt.timedelta(days=rng.randint(0, 2700))
        rows.append({"employee_id": f"E{1001 + idx}", "full_name": name,
                     "work_email": email_of(name), "ssn": ssn, "team": HR_TEAMS[dept],
                     "hired_on": hired})
    return rows


# ---------------------------------------------------------------------------
# SSO log, expenses, approved apps
# ---------------------------------------------------------------------------
APPROVED_APPS = ["Salesforce", "Slack", "Google Workspace", "Jira", "Confluence", "Zendesk",
                 "NetSuite", "GitHub", "Okta", "Datadog", "Snowflake", "Workday", "Zoom",
                 "AWS Console", "GCP Console", "DocuSign"]
APP_DEPTS = {  # who uses which sanctioned app (besides the everyone-apps)
    "Salesforce": ["Sales", "Leadership", "Marketing"],
    "Jira": ["Engineering", "Product", "Operations"],
    "Confluence": ["Engineering", "Product", "Operations", "Finance"],
    "Zendesk": ["Operations"],
    "NetSuite": ["Finance"],
    "GitHub": ["Engineering"],
    "Datadog": ["Engineering"],
    "Snowflake": ["Engineering", "Finance"],
    "Workday": ["People", "Leadership", "Finance"],
    "AWS Console": ["Engineering"],
    "GCP Console": ["Engineering"],
    "DocuSign": ["Sales", "Legal", "Finance"],
}
EVERYONE_APPS = ["Google Workspace", "Slack", "Okta", "Zoom"]
# Unsanctioned app -> departments its users come from, number of distinct users.
SHADOW_APPS = {
    "ChatGPT": (["Engineering", "Sales", "Marketing", "Product", "Finance"], 14),
    "Notion": (["Product", "Marketing", "Engineering"], 8),
    "Dropbox": (["Sales", "Operations"], 6),
    "Airtable": (["Operations"], 4),
    "Calendly": (["Sales"], 3),
}


def gen_sso():
    events = []
    shadow_users = {}
    for app, (depts, k) in SHADOW_APPS.items():
        pool = [e for e in EMAILS if DEPT[e] in depts]
        shadow_users[app] = sorted(rng.sample(pool, k))
    start = dt.datetime(2026, 11, 1)
    span = int((dt.datetime(2026, 11, 28) - start).total_seconds())

    def when():
        t = start + dt.timedelta(seconds=rng.randint(0, span - 1))
        if t.weekday() >= 5 and rng.random() < 0.7:
            t -= dt.timedelta(days=2)
        if rng.random() < 0.8:
            t = t.replace(hour=rng.randint(7, 18))
        if t < start:
            t += dt.timedelta(days=7)
        return t

    for _ in range(1370):
        user = rng.choice(EMAILS)
        apps = EVERYONE_APPS + [a for a, d in APP_DEPTS.items() if DEPT[user] in d]
        app = rng.choice(apps)
        result = "failure" if rng.random() < 0.04 else "success"
        events.append((when(), user, app, result))
    for app, users in shadow_users.items():
        for user in users:
            for _ in range(rng.randint(2, 6)):
                result = "failure" if rng.random() < 0.03 else "success"
                events.append((when(), user, app, result))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    rows = [[ts(t), u, a, r] for t, u, a, r in events]
    return rows, shadow_users


EXPENSE_CATEGORIES = {
    "Travel": (["Crestline Airways", "Lakeside Rail", "Harborview Hotel", "Metro Cab Co",
                "Grand Plaza Hotel"], (45, 900)),
    "Meals": (["Corner Bistro", "Blue Fig Cafe", "Lantern Noodle Bar", "The Daily Grind"], (12, 160)),
    "Office Supplies": (["Paper Trail Stationers", "DeskWorks"], (8, 240)),
    "Training": (["SkillForge Online", "DataSkills Institute"], (99, 1200)),
    "Conference": (["Freight Futures Summit 2026", "Supply Chain Forum"], (350, 1900)),
}
SHADOW_EXPENSES = [  # (vendor, monthly amount, department pool, number of subscribers)
    ("ChatGPT", 20.00, ["Engineering", "Sales", "Marketing", "Product", "Finance"], 5),
    ("Notion", 16.00, ["Product", "Marketing", "Engineering"], 3),
    ("Dropbox", 19.99, ["Sales", "Operations"], 2),
    ("Miro", 16.00, ["Product", "Engineering"], 2),
    ("Zapier", 69.99, ["Operations", "Marketing"], 1),
]


def gen_expenses(shadow_users):
    rows = []
    for _ in range(175):
        cat = rng.choice(list(EXPENSE_CATEGORIES))
        vendors, (lo, hi) = EXPENSE_CATEGORIES[cat]
        d = dt.date(2026, 8, 1) + dt.timedelta(days=rng.randint(0, 118))
        rows.append([d.isoformat(), rng.choice(EMAILS), rng.choice(vendors),
                     money(round(rng.uniform(lo, hi), 2)), cat])
    subscribers = {}
    for vendor, amount, depts, k in SHADOW_EXPENSES:
        # Prefer people who also sign in to the app (when it appears in SSO).
        pool = list(shadow_users.get(vendor, [])) or [e for e in EMAILS if DEPT[e] in depts]
        people = sorted(rng.sample(pool, k))
        subscribers[vendor] = people
        for p in people:
            day = rng.randint(1, 27)
            first_month = rng.choice([8, 9, 10])
            for m in range(first_month, 12):
                rows.append([dt.date(2026, m, day).isoformat(), p, vendor, money(amount), "Software"])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows, subscribers


# ---------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------
def sql_lit(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, (dt.date,)):
        return f"'{v.isoformat()}'"
    if isinstance(v, float):
        return f"{v:.2f}"
    return "'" + str(v).replace("'", "''") + "'"


def sql_insert(table: str, cols: list[str], rows: list[dict], conflict: str) -> str:
    out = [f"insert into {table} ({', '.join(cols)}) values"]
    vals = []
    for r in rows:
        vals.append("  (" + ", ".join(sql_lit(r[c]) for c in cols) + ")")
    out.append(",\n".join(vals))
    out.append(f"on conflict ({conflict}) do nothing;")
    return "\n".join(out) + "\n"


SQL_HEADER = """\
-- Demo Co CRM and billing source database (fictional data, generated by
-- demo/platform/generate.py; do not edit by hand). Idempotent: safe to load twice.
-- Contact details, card numbers, IBANs and SSNs are fake but pass format checks
-- (Luhn, IBAN mod-97, SSN area rules) so that PII discovery has something to find.

create schema if not exists crm;
create schema if not exists billing;
create schema if not exists hr;

create table if not exists crm.accounts (
  account_id text primary key,
  account_name text,
  segment text,
  industry text,
  contact_name text,
  contact_email text,
  contact_phone text,
  country text,
  created_at date
);

create table if not exists crm.opportunities (
  opp_id text primary key,
  account_id text,
  opp_name text,
  stage text,
  amount numeric(12,2),
  owner_email text,
  created_on date,
  close_date date,
  stage_changed_on date,
  segment text
);

create table if not exists billing.invoices (
  invoice_no text primary key,
  account_id text,
  amount_due numeric(12,2),
  currency text,
  issued_on date,
  due_on date,
  paid_on date,
  status text
);

create table if not exists billing.payment_methods (
  account_id text primary key,
  card_number text,
  iban text,
  holder_name text
);

create table if not exists hr.employees (
  employee_id text primary key,
  full_name text,
  work_email text,
  ssn text,
  team text,
  hired_on date
);

comment on table crm.accounts is 'Customer accounts with their primary contact (restricted: contact PII).';
comment on table crm.opportunities is 'Sales opportunities; stages prospecting to closed_won / closed_lost.';
comment on table billing.invoices is 'Customer invoices, net 30; status paid, open or overdue.';
comment on table billing.payment_methods is 'Stored customer payment methods (restricted: card numbers, IBANs).';
comment on table hr.employees is 'Employee records (restricted: SSNs).';
"""


def gen_sql(accounts, opps, invoices, payments, employees) -> str:
    parts = [SQL_HEADER, ""]
    parts.append(sql_insert("crm.accounts", ["account_id", "account_name", "segment", "industry",
                                             "contact_name", "contact_email", "contact_phone",
                                             "country", "created_at"], accounts, "account_id"))
    parts.append(sql_insert("crm.opportunities", ["opp_id", "account_id", "opp_name", "stage",
                                                  "amount", "owner_email", "created_on",
                                                  "close_date", "stage_changed_on", "segment"],
                            opps, "opp_id"))
    parts.append(sql_insert("billing.invoices", ["invoice_no", "account_id", "amount_due",
                                                 "currency", "issued_on", "due_on", "paid_on",
                                                 "status"], invoices, "invoice_no"))
    parts.append(sql_insert("billing.payment_methods", ["account_id", "card_number", "iban",
                                                        "holder_name"], payments, "account_id"))
    parts.append(sql_insert("hr.employees", ["employee_id", "full_name", "work_email", "ssn",
                                             "team", "hired_on"], employees, "employee_id"))
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
RAGGED = "id,name,amount\n1,alpha,10.50\n2,beta,7.25\n3,gamma\n4,delta,3.00\n5,epsilon,4.75,extra\n6,zeta,1.00\n"


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)

    costs = gen_cloud_costs()
    write_csv(FILES / "cloud_costs.csv",
              ["date", "cloud", "account_id", "product", "resource", "unblended_cost",
               "team_tag", "env_tag", "avg_cpu_pct"], costs)
    write_csv(FILES / "budgets.csv", ["month", "account_id", "budget_usd"], gen_budgets())

    accounts = gen_accounts()

    v1, newer = gen_tickets(accounts)
    v1_rows = [[t[0], ts(t[1]), ts(t[2]) if t[2] else None, t[3], t[4], t[5], t[6], t[7]] for t in v1]
    write_csv(FILES / "tickets.csv",
              ["ticket_id", "opened_at", "resolved_at", "priority", "assigned_team", "status",
               "customer", "sla_hours"], v1_rows)
    v2_rows = [[t[0], ts(t[1]), ts(t[2]) if t[2] else None, f"P{t[3]}", t[4], t[5], t[6], t[7], t[8]]
               for t in v1 + newer]
    write_csv(FILES / "tickets_v2.csv",
              ["ticket_id", "opened_at", "resolved_at", "priority", "owning_team", "status",
               "customer", "sla_hours", "channel"], v2_rows)

    shipments = gen_shipments()
    (FILES / "shipments.json").write_text(json.dumps(shipments, indent=2) + "\n", encoding="utf-8")
    (FILES / "ragged_example.csv").write_text(RAGGED, encoding="utf-8")

    opps = gen_opportunities(accounts)
    invoices, slow_payers = gen_invoices(accounts)
    payments = gen_payment_methods(accounts)
    employees = gen_employees()
    (HERE / "source.sql").write_text(gen_sql(accounts, opps, invoices, payments, employees),
                                     encoding="utf-8")

    sso, shadow_users = gen_sso()
    write_csv(LOGS / "sso_log.csv", ["timestamp", "user_email", "app", "result"], sso)
    expenses, subscribers = gen_expenses(shadow_users)
    write_csv(LOGS / "expenses.csv", ["date", "employee_email", "vendor", "amount_usd", "category"],
              expenses)
    (LOGS / "approved_apps.txt").write_text(
        "# Sanctioned applications at Demo Co (owner: IT, Ben Carter). One name per line.\n"
        "# Anything seen in SSO or expense logs that is not listed here is shadow IT.\n"
        + "\n".join(APPROVED_APPS) + "\n", encoding="utf-8")

    if "--summary" in sys.argv:
        report(costs, v1, newer, shipments, accounts, opps, invoices, slow_payers, payments,
               employees, sso, shadow_users, expenses, subscribers)


def report(costs, v1, newer, shipments, accounts, opps, invoices, slow_payers, payments,
           employees, sso, shadow_users, expenses, subscribers):
    from collections import defaultdict
    p = print
    # Cloud costs.
    by_month_acct = defaultdict(float)
    by_month_cloud = defaultdict(float)
    by_day = defaultdict(float)
    by_day_prod = defaultdict(float)
    for d, cloud, acct, prod, res, cost, team, env, cpu in costs:
        c = float(cost)
        by_month_acct[(d[:7], acct)] += c
        by_month_cloud[(d[:7], cloud)] += c
        by_day[d] += c
        by_day_prod[(d, prod)] += c
    p("cloud_costs rows", len(costs))
    for m in ["2026-08", "2026-09", "2026-10", "2026-11"]:
        aws, gcp = by_month_cloud[(m, "aws")], by_month_cloud[(m, "gcp")]
        p(f"  {m} total {aws + gcp:,.2f} aws {aws:,.2f} ({aws / (aws + gcp):.1%}) gcp {gcp:,.2f}")
        for i, acct in enumerate(BUDGETS):
            b = BUDGETS[acct][BUDGET_MONTHS.index(dt.date(int(m[:4]), int(m[5:]), 1))]
            a = by_month_acct[(m, acct)]
            p(f"     {acct:15s} actual {a:12,.2f} budget {b:10,.2f} {'OVER' if a > b else ''}")
    ds = sorted(by_day)
    p("  anomalies (total, day > trailing-14 avg * 1.3):")
    for i in range(14, len(ds)):
        avg = sum(by_day[x] for x in ds[i - 14:i]) / 14
        if by_day[ds[i]] > avg * 1.3:
            p(f"    {ds[i]} {by_day[ds[i]]:,.2f} vs avg {avg:,.2f} (+{by_day[ds[i]] / avg - 1:.1%})")
    p("  anomalies by product:")
    prods = sorted({k[1] for k in by_day_prod})
    for prod in prods:
        for i in range(14, len(ds)):
            avg = sum(by_day_prod[(x, prod)] for x in ds[i - 14:i]) / 14
            v = by_day_prod[(ds[i], prod)]
            if avg > 0 and v > avg * 1.3:
                p(f"    {prod:12s} {ds[i]} {v:,.2f} vs avg {avg:,.2f} (+{v / avg - 1:.1%})")
    nov_openai = sum(v for (d, pr), v in by_day_prod.items() if pr == "OpenAI API" and d >= "2026-11")
    p(f"  OpenAI API Nov 1-27 {nov_openai:,.2f}; Oct {sum(v for (d, pr), v in by_day_prod.items() if pr == 'OpenAI API' and d.startswith('2026-10')):,.2f}")
    pre = [v for (d, pr), v in by_day_prod.items() if pr == "OpenAI API" and "2026-10-27" <= d <= "2026-11-09"]
    post = [v for (d, pr), v in by_day_prod.items() if pr == "OpenAI API" and d >= "2026-11-10"]
    p(f"  OpenAI API daily mean 10-27..11-09 {sum(pre) / len(pre):,.2f}; 11-10..11-27 {sum(post) / len(post):,.2f}")
    for d in ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]:
        p(f"  CloudFront {d} {by_day_prod[(d, 'CloudFront')]:,.2f}")
    untagged = [r for r in costs if r[6] == ""]
    p(f"  untagged rows {len(untagged)} first {untagged[0][0]} total {sum(float(r[5]) for r in untagged):,.2f}")
    for res in ["orders-db-staging-old", "gpu-train-p3-8xl-01"]:
        rr = [r for r in costs if r[4] == res]
        p(f"  idle {res}: rows {len(rr)} max cpu {max(float(r[8]) for r in rr)} cost/day {rr[0][5]} total {sum(float(r[5]) for r in rr):,.2f}")
    other_min = min(float(r[8]) for r in costs if r[8] and r[4] not in ("orders-db-staging-old", "gpu-train-p3-8xl-01"))
    p(f"  min cpu of other compute {other_min}")

    # Tickets.
    allt = v1 + newer
    p("tickets v1", len(v1), "v2", len(allt))
    for name, ts_ in [("v1", v1), ("v2", allt)]:
        br = [t for t in ts_ if ticket_breached(t)]
        p(f"  {name}: breached {len(br)} ({len(br) / len(ts_):.1%}) as of {AS_OF}")
        for team, _ in TEAMS:
            tt = [t for t in ts_ if t[4] == team]
            b = [t for t in tt if ticket_breached(t)]
            p(f"     {team:12s} {len(tt):4d} breached {len(b):3d} ({len(b) / len(tt):.1%}) open {sum(1 for t in tt if t[5] == 'open')} pending {sum(1 for t in tt if t[5] == 'pending')}")
        st = defaultdict(int)
        for t in ts_:
            st[t[5]] += 1
        p("    status", dict(st))
        op = [t for t in ts_ if t[5] == "open"]
        ages = sorted((AS_OF - t[1]).total_seconds() / 86400 for t in op)
        p(f"    open ages days: min {ages[0]:.1f} max {ages[-1]:.1f} >14d {sum(1 for a in ages if a > 14)}")
        pr = defaultdict(int)
        for t in ts_:
            pr[t[3]] += 1
        p("    priorities", dict(sorted(pr.items())))
    # Shipments.
    p("shipments", len(shipments))
    for v in VENDORS:
        ss = [s for s in shipments if s["vendor"] == v]
        late = [s for s in ss if (s["delivered_date"] and s["delivered_date"] > s["promised_date"])
                or (s["delivered_date"] is None and s["promised_date"] < TODAY.isoformat())]
        p(f"  {v:20s} {len(ss)} late {len(late)} ({len(late) / len(ss):.1%}) in transit {sum(1 for s in ss if s['status'] == 'in_transit')}")
    # Opportunities.
    p("accounts", len(accounts), "segments", {s: sum(1 for a in accounts if a["segment"] == s) for s, _ in SEGMENTS})
    p("opportunities", len(opps))
    won_q4 = [o for o in opps if o["stage"] == "closed_won" and Q4_START <= o["close_date"] <= Q4_END]
    won_q4_amt = sum(o["amount"] for o in won_q4)
    open_ = [o for o in opps if not o["stage"].startswith("closed")]
    open_q4 = [o for o in open_ if o["close_date"] <= Q4_END]
    open_q4_remaining = [o for o in open_ if TODAY <= o["close_date"] <= Q4_END]
    slipped = [o for o in open_ if o["close_date"] < TODAY]
    stuck = [o for o in open_ if (TODAY - o["stage_changed_on"]).days > 60]
    p(f"  Q4 closed_won {len(won_q4)} = {won_q4_amt:,.2f}; remaining quota {6000000 - won_q4_amt:,.2f}")
    p(f"  open {len(open_)} = {sum(o['amount'] for o in open_):,.2f}")
    p(f"  open closing {TODAY}..{Q4_END}: {len(open_q4_remaining)} = {sum(o['amount'] for o in open_q4_remaining):,.2f}; coverage {sum(o['amount'] for o in open_q4_remaining) / (6000000 - won_q4_amt):.2f}x")
    p(f"  open with close date in Q4 incl. slipped: {len(open_q4)} = {sum(o['amount'] for o in open_q4):,.2f}")
    p(f"  slipped {len(slipped)} = {sum(o['amount'] for o in slipped):,.2f}")
    p(f"  stuck >60d {len(stuck)} = {sum(o['amount'] for o in stuck):,.2f}")
    closed = [o for o in opps if o["stage"].startswith("closed")]
    p(f"  win rate all {sum(1 for o in closed if o['stage'] == 'closed_won') / len(closed):.1%}")
    st = defaultdict(int)
    for o in opps:
        st[o["stage"]] += 1
    p("  stages", dict(st))
    for seg, reps in REPS.items():
        for r in reps:
            w = sum(o["amount"] for o in won_q4 if o["owner_email"].startswith(r + "@"))
            p(f"    {r:18s} Q4 won {w:,.2f}")
    # Invoices.
    p("invoices", len(invoices))
    st = defaultdict(int)
    for v in invoices:
        st[v["status"]] += 1
    p("  status", dict(st))
    od = [v for v in invoices if v["status"] == "overdue"]
    p(f"  overdue >60 days past due: {sum(1 for v in od if (TODAY - v['due_on']).days > 60)}")
    for cur in ["USD", "EUR", "GBP"]:
        p(f"  overdue {cur}: {sum(v['amount_due'] for v in od if v['currency'] == cur):,.2f}")
    p("  delinquent accounts", slow_payers)
    p("payment methods", len(payments), "employees", len(employees))
    # SSO / expenses.
    p("sso events", len(sso), "users", len({r[1] for r in sso}))
    for app, users in shadow_users.items():
        p(f"  {app:10s} users {len(users)} events {sum(1 for r in sso if r[2] == app)}")
    p("expenses", len(expenses))
    for vendor, people in subscribers.items():
        rows = [r for r in expenses if r[2] == vendor]
        p(f"  {vendor:10s} people {len(people)} rows {len(rows)} total {sum(float(r[3]) for r in rows):,.2f}")


if __name__ == "__main__":
    main()
