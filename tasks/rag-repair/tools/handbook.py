"""The company handbook and its questions, generated from a seed (standard library only).

A handbook is ~200 short pages in five families (office guides, team pages,
service runbooks, home-office allowances, training courses). Each page states
three to five facts about its subject in one sentence each, between intro and
closing sentences; a question asks for one fact. Values of one attribute are
distinct within a handbook, so an answer is right when it carries the gold
value and no other page's value of the same attribute.

The public and the hold-out handbooks draw their subjects from disjoint
halves of each name pool, and their questions from disjoint phrasings
(`PUBLIC_ASKS` vs `HOLDOUT_ASKS`), so hold-out questions share no wording
pattern with public ones (tests bound the overlap).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

CITIES = ("Lisbon Oslo Tallinn Porto Lyon Ghent Utrecht Krakow Brno Graz Aarhus Malmo Turku Tartu Riga Vilnius "
          "Gdansk Leipzig Dresden Bremen Hanover Basel Bern Lausanne Turin Bologna Verona Seville Valencia Bilbao "
          "Cork Galway Bristol Leeds Glasgow Cardiff Belfast Nantes Lille Bordeaux Toulouse Marseille Antwerp "
          "Rotterdam Eindhoven Groningen Bergen Trondheim Uppsala Gothenburg Odense Espoo Tampere Kaunas Poznan "
          "Wroclaw Ostrava Linz Salzburg Innsbruck Zurich Geneva Milan Naples Genoa Zaragoza Malaga Granada "
          "Coimbra Braga Limerick Dundee Aberdeen Norwich Exeter Rennes Grenoble Montpellier Strasbourg Liege "
          "Haarlem Stavanger Lund Aalborg Oulu").split()
COUNTRIES = ("Portugal Norway Estonia France Belgium Netherlands Poland Czechia Austria Denmark Sweden Finland "
             "Latvia Lithuania Germany Switzerland Italy Spain Ireland Scotland Wales Luxembourg Slovenia Croatia "
             "Slovakia Hungary Romania Bulgaria Greece Cyprus Malta Iceland Canada Mexico Brazil Chile Argentina "
             "Colombia Peru Uruguay Japan Korea Singapore Australia Zealand India Kenya Ghana Morocco Tunisia Egypt "
             "Israel Turkey Georgia Armenia Serbia Albania Montenegro Bosnia Moldova Ukraine Vietnam Thailand "
             "Malaysia Indonesia Philippines Taiwan Nigeria Rwanda Senegal Namibia Botswana Jordan Oman Qatar "
             "Panama Ecuador Bolivia Paraguay Jamaica Mongolia").split()
TEAM_A = "Payments Search Billing Identity Growth Mobile Data Platform Checkout Catalog Fraud Messaging Pricing Ledger Routing".split()
TEAM_B = "Risk Quality Core Infrastructure Insights Experience Tooling Reliability Operations Analytics".split()
TOPICS = ("SQL Kubernetes Negotiation Accessibility Terraform Statistics Leadership Rust Typography Forecasting "
          "Writing Coaching GraphQL Observability Privacy Budgeting Interviewing Spreadsheets Storytelling Docker "
          "Testing Python Security Networking Design Mentoring Pricing Linux Kafka Excel Facilitation Feedback "
          "Onboarding Prototyping Research Hiring Presenting Contracts Compliance Pandas").split()
LEVELS = ("Foundations", "Masterclass")
SYLLABLES = "ka ri mo len tor vas ne qui bra lo sen dar fi gul ost ram pel zu win cor ela mar tes un ba".split()
FIRST = ("Ana Bruno Carla Diego Elena Farid Greta Hugo Ines Jonas Kaja Liam Maren Nils Olga Pavel Rosa Sami Tove "
         "Ugo Vera Wim Yara Zofia Aiko Bilal Chiara Dorota Emil Freya").split()
LAST = ("Almeida Berg Costa Dahl Eriksen Fischer Gomes Hansen Ivanova Jensen Kowalski Lund Moreau Novak Olsen "
        "Petrov Quist Rossi Silva Tamm Urban Varga Weber Yilmaz Zeller Aalto Bauer Conti Duarte Egger").split()


@dataclass(frozen=True)
class Attribute:
    """One kind of fact: how a page states it and how its values look."""

    name: str
    family: str
    says: tuple[str, ...]  # page sentences with {e} (subject) and {v} (value)


FAMILIES = {
    "office": ("{e} office guide", (
        "This guide is for everyone who works from or visits the {e} office.",
        "The {e} office is run by the local workplace team, who keep this page up to date.",
        "Most questions about desks, access and visitors at the {e} office are answered below.")),
    "team": ("The {e} team", (
        "The {e} team owns a part of the product and the services behind it.",
        "This page tells other teams how to work with the {e} team.",
        "New joiners of the {e} team should read this page in their first week.")),
    "service": ("{e} service runbook", (
        "{e} is one of the internal services behind the customer platform.",
        "This runbook collects what an on-call engineer needs to know about {e}.",
        "Read this page before you change or restart {e} in production.")),
    "allowance": ("Home-office allowance: {e}", (
        "Employees based in {e} can get part of their home-office equipment paid.",
        "This page explains the home-office allowance for staff employed in {e}.",
        "The allowance for {e} follows local tax rules, so it differs from other countries.")),
    "course": ("Training course: {e}", (
        "{e} is part of the company's internal training catalogue.",
        "This page describes the course {e} and how to sign up.",
        "Managers often recommend {e} to people who are new to the subject.")),
}
DETAILS = {
    "office": ("Desks can be booked up to a week ahead in the booking tool.",
               "Lockers are free to use; empty yours before a long holiday.",
               "Meeting rooms on the upper floors have video equipment.",
               "The kitchen is cleaned every evening, so please leave it tidy.",
               "Visitors must be met at the entrance by the person they visit."),
    "team": ("Requests for new work go through the team's intake board.",
             "The team plans its work in two-week cycles.",
             "Design documents are reviewed in the weekly architecture slot.",
             "Urgent production issues go to on-call, not to individual people.",
             "The team publishes a short summary of its work every month."),
    "service": ("Configuration changes are reviewed like code changes.",
                "Dashboards for latency and errors are linked from the service catalogue.",
                "A restart drains open connections before the process stops.",
                "Secrets are read from the vault at start-up, never from files.",
                "Capacity is reviewed before every large marketing campaign."),
    "allowance": ("Receipts must show the date, the item and the price paid.",
                  "Equipment bought with the allowance remains company property for two years.",
                  "Claims are paid out with the next monthly salary.",
                  "Part-time staff receive the allowance in proportion to their hours.",
                  "Repairs of equipment are not covered by the allowance."),
    "course": ("Sessions are held in English unless the group agrees otherwise.",
               "Participants should bring a laptop with the usual tools installed.",
               "Sign-up closes two weeks before the first session.",
               "Course material stays available on the learning portal afterwards.",
               "Managers approve the time spent on the course in advance."),
}
CLOSINGS = (
    "If something on this page is out of date, tell the people team so they can fix it.",
    "The page is reviewed every quarter; older versions are kept in the document history.",
    "Ask in the general help channel if anything here is unclear.",
    "Changes to these rules are announced in the monthly company update.",
)

ATTRIBUTES = (
    Attribute("wifi", "office", ("Guests at the {e} office connect to the Wi-Fi network {v}.",
                                 "The Wi-Fi network for visitors to the {e} office is {v}.")),
    Attribute("reception", "office", ("Reception at the {e} office opens at {v} on weekdays.",
                                      "On weekdays the front desk of the {e} office opens at {v}.")),
    Attribute("bikes", "office", ("The {e} office has {v} bicycle parking spaces in its basement.",
                                  "There are {v} bicycle parking spaces under the {e} office.")),
    Attribute("warden", "office", ("{v} is the fire warden of the {e} office.",
                                   "The fire warden for the {e} office is {v}.")),
    Attribute("mailroom", "office", ("Parcels for the {e} office are collected in {v}.",
                                     "The mail room of the {e} office is {v}.")),
    Attribute("oncall", "team", ("On-call duty in the {e} team rotates every {v} days.",
                                 "Each on-call shift of the {e} team lasts {v} days.")),
    Attribute("channel", "team", ("The {e} team answers questions in the chat channel {v}.",
                                  "To reach the {e} team, post in the chat channel {v}.")),
    Attribute("standup", "team", ("The {e} team holds its daily stand-up at {v}.",
                                  "The daily stand-up of the {e} team starts at {v}.")),
    Attribute("lead", "team", ("The {e} team is led by {v}.", "{v} leads the {e} team.")),
    Attribute("port", "service", ("In production, {e} listens on port {v}.",
                                  "The production instances of {e} serve on port {v}.")),
    Attribute("retention", "service", ("{e} keeps its logs for {v} days before deleting them.",
                                       "Logs of {e} are deleted after {v} days.")),
    Attribute("pager", "service", ("Incidents in {e} page the rota {v}.",
                                   "When {e} fails, the alert goes to the rota {v}.")),
    Attribute("deploy", "service", ("Deployments of {e} must finish before {v} UTC.",
                                    "Nobody may deploy {e} after {v} UTC.")),
    Attribute("amount", "allowance", ("Staff in {e} can claim up to {v} for home-office equipment.",
                                      "The home-office allowance in {e} is at most {v}.")),
    Attribute("approval", "allowance", ("Allowance claims in {e} are approved within {v} working days.",
                                        "Claims from {e} get an answer within {v} working days.")),
    Attribute("form", "allowance", ("Claims in {e} are filed on form {v}.",
                                    "Staff in {e} use form {v} for their claim.")),
    Attribute("duration", "course", ("{e} takes {v} hours in total.", "The course {e} lasts {v} hours.")),
    Attribute("seats", "course", ("{e} accepts at most {v} participants.", "There are {v} seats in each run of {e}.")),
    Attribute("room", "course", ("{e} is taught in the {v} training room.", "Sessions of {e} take place in the {v} room.")),
    Attribute("trainer", "course", ("{e} is taught by {v}.", "The trainer for {e} is {v}.")),
)
BY_NAME = {a.name: a for a in ATTRIBUTES}

# Question phrasings: the subject comes last, so questions of one phrasing share a long prefix.
PUBLIC_ASKS = {
    "wifi": "What is the name of the guest Wi-Fi network at the {e} office?",
    "reception": "At what time does the reception open on weekdays in the {e} office?",
    "bikes": "Is there bicycle parking at the {e} office, and how many spaces?",
    "warden": "Who is the designated fire warden of the {e} office?",
    "mailroom": "Where are parcels and letters collected in the {e} office?",
    "oncall": "For the {e} team, what is the length in days of an on-call rotation?",
    "channel": "Which chat channel should I use to ask a question to the {e} team?",
    "standup": "At what time does the {e} team have its daily stand-up?",
    "lead": "Who is the person leading the {e} team?",
    "port": "Which port does the production deployment listen on for {e}?",
    "retention": "How long, in days, does the service {e} keep its logs?",
    "pager": "Which on-call rota gets paged for incidents in {e}?",
    "deploy": "What is the latest time of day that deployments may finish for {e}?",
    "amount": "What amount may I claim back for my home-office equipment while based in {e}?",
    "approval": "How many working days does approval of an allowance claim take in {e}?",
    "form": "Which form do I have to fill in for a home-office claim in {e}?",
    "duration": "What is the total length in hours of the training course {e}?",
    "seats": "What is the maximum number of participants for the course {e}?",
    "room": "In which training room are the sessions held for the course {e}?",
    "trainer": "Which trainer teaches the internal course {e}?",
}
HOLDOUT_ASKS = {
    "wifi": "Visitors are coming tomorrow: which Wi-Fi network do guests join at the {e} office?",
    "reception": "I arrive early: when does reception or the front desk open on weekdays at the {e} office?",
    "bikes": "If I cycle to work, how many bicycle parking spaces does the building have for the {e} office?",
    "warden": "In case of a fire drill, who is the fire warden I should follow at the {e} office?",
    "mailroom": "I am expecting a delivery at work: in which room are parcels collected for the {e} office?",
    "oncall": "Before I join the rota, tell me: how many days does each on-call shift last in the {e} team?",
    "channel": "I have a quick question for them: in which chat channel does the {e} team answer questions?",
    "standup": "I want to join the morning meeting: when does the daily stand-up of the {e} team start?",
    "lead": "I would like to talk about priorities with someone: who leads the {e} team?",
    "port": "My firewall rule needs the number: on which port do production instances of {e} serve?",
    "retention": "We are preparing for an audit: after how many days are the logs of {e} deleted?",
    "pager": "Something is broken in production: which rota does the alert go to when {e} fails?",
    "deploy": "I plan a release late this afternoon: until what time UTC may I deploy {e}?",
    "amount": "I am setting up my desk at home: what is the most staff can claim for home-office equipment in {e}?",
    "approval": "I sent my claim last week: within how many working days are allowance claims approved in {e}?",
    "form": "I am claiming a new office chair: which form do staff use for the claim in {e}?",
    "duration": "I need to block my calendar: how many hours in total does the course {e} take?",
    "seats": "Our whole team wants to sign up: how many participants or seats does a run of {e} have?",
    "room": "I am going to the classroom sessions: which training room is the course {e} taught in?",
    "trainer": "I have a question about the material: who is the trainer of the course {e}?",
}
# Attributes a page family never states: questions about them have no answer in the handbook.
MISSING_ASKS_PUBLIC = {
    "office": "What is the dress code for visitors to the {e} office?",
    "team": "How large is the yearly budget of the {e} team?",
    "service": "Which database engine does the service {e} run on?",
    "allowance": "Can I claim a standing desk as a freelancer working in {e}?",
    "course": "Is there an exam at the end of the course {e}?",
}
MISSING_ASKS_HOLDOUT = {
    "office": "Are dogs allowed in the building of our site in {e}?",
    "team": "Which quarterly objectives has the group set for {e}?",
    "service": "Which programming language was used to write {e}?",
    "allowance": "Will my internet bill be reimbursed while working from {e}?",
    "course": "Do participants receive a certificate after finishing {e}?",
}
IDK = "The handbook does not say."


@dataclass
class Page:
    """One handbook page: id, title, text, its subject and the facts it states."""

    id: str
    family: str
    subject: str
    title: str
    text: str
    facts: dict[str, tuple[str, str]] = field(default_factory=dict)  # attribute → (value, sentence)
    missing: list[str] = field(default_factory=list)  # attributes of its family this page does not state


def _pools(rng: random.Random, half: int) -> dict[str, list[str]]:
    """Subjects per family: the first or second half (by `half`) of each shuffled pool."""
    words = sorted({(a + b + c).capitalize() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:8]})
    pools = {"office": list(CITIES), "allowance": list(COUNTRIES),
             "team": [f"{a} {b}" for a in TEAM_A for b in TEAM_B],
             "service": random.Random(99).sample(words, 120),
             "course": [f"{t} {lv}" for t in TOPICS for lv in LEVELS]}
    out = {}
    for family, pool in pools.items():
        pool = sorted(pool)
        random.Random(f"split-{family}").shuffle(pool)  # the same split whatever the seed
        if family == "course":  # split by topic, so no hold-out course shares a topic with a public one
            topics = sorted({p.rsplit(" ", 1)[0] for p in pool})
            random.Random("split-topics").shuffle(topics)
            mine = set(topics[:len(topics) // 2] if half == 0 else topics[len(topics) // 2:])
            chosen = [p for p in pool if p.rsplit(" ", 1)[0] in mine]
        else:
            chosen = pool[:len(pool) // 2] if half == 0 else pool[len(pool) // 2:]
        rng.shuffle(chosen)
        out[family] = chosen
    return out


def _values(rng: random.Random, attr: str, subjects: list[str]) -> list[str]:
    """One distinct value per subject for `attr`."""
    n = len(subjects)
    people = [f"{f} {l}" for f in FIRST for l in LAST]
    times = [f"{h:02d}:{m:02d}" for h in range(6, 11) for m in range(0, 60, 5)]
    late = [f"{h:02d}:{m:02d}" for h in range(12, 20) for m in range(0, 60, 10)]
    rooms = sorted({(a + b).capitalize() for a in SYLLABLES for b in SYLLABLES if a != b})
    if attr == "wifi":
        return [f"{s[:3].upper()}-GUEST-{k}" for s, k in zip(subjects, rng.sample(range(10, 100), n))]
    if attr == "channel":
        return ["#" + re.sub(r"\W+", "-", s.lower()) + "-" + rng.choice(["help", "ask", "support", "questions"])
                for s in subjects]
    if attr == "mailroom":
        return [f"room {k // 100}.{k % 100:02d}" for k in rng.sample(range(101, 999), n)]
    pools = {"reception": times, "standup": times, "deploy": late, "bikes": range(12, 400), "oncall": range(3, 60),
             "port": range(3000, 9999), "retention": range(7, 400), "approval": range(2, 60),
             "duration": range(4, 90), "seats": range(6, 120), "room": rooms,
             "warden": people, "lead": people, "trainer": people}
    if attr in pools:
        return [str(v) for v in rng.sample(list(pools[attr]), n)]
    if attr == "pager":
        return [f"PGR-{k}" for k in rng.sample(range(1000, 9999), n)]
    if attr == "amount":
        return [f"EUR {k}" for k in rng.sample(range(200, 1600, 5), n)]
    if attr == "form":
        return [f"HR-{k}" for k in rng.sample(range(100, 999), n)]
    raise KeyError(attr)


def make_handbook(seed: int, half: int, per_family: int = 40, id_base: int = 1) -> tuple[list[Page], dict]:
    """(`5 * per_family` pages from subjects of pool half `half`, ids HB-0001… from `id_base`; the subject pools)."""
    rng = random.Random(seed)
    pools = _pools(rng, half)
    pages: list[Page] = []
    for family, (title, intros) in FAMILIES.items():
        subjects = pools[family][:per_family]
        attrs = [a for a in ATTRIBUTES if a.family == family]
        values = {a.name: _values(rng, a.name, subjects) for a in attrs}
        for i, subject in enumerate(subjects):
            stated = rng.sample(attrs, rng.randint(3, len(attrs)))
            facts, sentences = {}, []
            for a in stated:
                sentence = rng.choice(a.says).format(e=subject, v=values[a.name][i])
                sentence = sentence[0].upper() + sentence[1:]
                facts[a.name] = (values[a.name][i], sentence)
                sentences.append(sentence)
            details = rng.sample(DETAILS[family], 3)
            for d in details:  # details between and around the facts, so facts sit anywhere in the page
                sentences.insert(rng.randint(0, len(sentences)), d)
            body = [s.format(e=subject) for s in rng.sample(intros, 2)] + sentences + rng.sample(CLOSINGS, rng.randint(1, 2))
            pages.append(Page("", family, subject, title.format(e=subject), " ".join(body), facts,
                              [a.name for a in attrs if a.name not in facts]))
    rng.shuffle(pages)
    for k, page in enumerate(pages):
        page.id = f"HB-{id_base + k:04d}"
    return pages, pools


def make_questions(pages: list[Page], pools: dict[str, list[str]], seed: int, asks: dict[str, str],
                   missing_asks: dict[str, str], n_answerable: int, n_unknown_subject: int, n_missing_fact: int,
                   paired: bool, prefix: str) -> list[dict]:
    """Questions with their key: answerable ones (gold page, value, sentence) and unanswerable ones.

    `paired`: answerable questions come in pairs of one phrasing about two subjects (same long
    prefix, different answers), one in each half of the file; two exact repeats are added.
    """
    rng = random.Random(seed)
    by_attr: dict[str, list[Page]] = {}
    for page in pages:
        for attr in page.facts:
            by_attr.setdefault(attr, []).append(page)
    picks: list[tuple[str, Page]] = []
    attrs = sorted(by_attr)
    rng.shuffle(attrs)
    while len(picks) < n_answerable:
        for attr in attrs:
            if len(picks) >= n_answerable:
                break
            taken = {p.id for a, p in picks if a == attr}
            free = [p for p in by_attr[attr] if p.id not in taken]
            picks += [(attr, p) for p in rng.sample(free, 2 if paired else 1)]
    picks = picks[:n_answerable]
    rows = [{"attribute": a, "subject": p.subject, "question": asks[a].format(e=p.subject), "answerable": True,
             "answer": p.facts[a][0], "gold_page": p.id, "gold_sentence": p.facts[a][1]} for a, p in picks]
    if paired:  # one of each pair in each half, so the first is answered before the second is asked
        rows = rows[0::2] + rows[1::2]
    used = {p.subject for p in pages}
    unknown = [(f, s) for f in sorted(FAMILIES) for s in pools[f][len([p for p in pages if p.family == f]):]]
    for family, subject in rng.sample(unknown, n_unknown_subject):
        attr = rng.choice([a.name for a in ATTRIBUTES if a.family == family])
        rows.append({"attribute": attr, "subject": subject, "question": asks[attr].format(e=subject),
                     "answerable": False, "answer": IDK, "gold_page": "", "gold_sentence": "", "why": "no such subject"})
    for page in rng.sample(pages, n_missing_fact):
        if page.missing and rng.random() < 0.5:  # a fact its family states elsewhere, missing on this page
            attr = rng.choice(page.missing)
            question = asks[attr].format(e=page.subject)
        else:
            attr, question = "none", missing_asks[page.family].format(e=page.subject)
        rows.append({"attribute": attr, "subject": page.subject, "question": question, "answerable": False,
                     "answer": IDK, "gold_page": "", "gold_sentence": "", "why": "not stated", "page": page.id})
    assert used.isdisjoint(r["subject"] for r in rows if r.get("why") == "no such subject")
    order = list(range(len(rows)))
    answerable = [i for i in order if rows[i]["answerable"]]
    others = [i for i in order if not rows[i]["answerable"]]
    rng.shuffle(others)
    merged = []  # keep the pair halves in place; spread unanswerable questions through the file
    step = max(1, len(answerable) // max(1, len(others)))
    for k, i in enumerate(answerable):
        merged.append(i)
        if k % step == step - 1 and others:
            merged.append(others.pop())
    merged += others
    rows = [rows[i] for i in merged]
    if paired:  # a question asked twice (colleagues ask the same thing): a cache should answer it once
        for src in (rows[1], rows[len(rows) // 3]):
            rows.insert(len(rows) - 3, dict(src, repeat=True))
    for k, row in enumerate(rows):
        row["question_id"] = f"{prefix}{k + 1:03d}"
    return rows
