"""Synthetic children for the children's index: made up, no real people, for demos, tests and benchmarks.

Everything is invented from built-in lists, and each identifier is chosen so it cannot be
a real one:
  - postcodes are in the "ZZ" area, which does not exist (outward codes ZZ1–ZZ60; ZZ99 is
    avoided because the NHS uses it for pseudo-postcodes);
  - telephone numbers are in Ofcom's ranges kept for drama, 07700 900000–900999 and
    01632 960000–960999, which are never given to anyone;
  - unique numbers (UPNs) are a letter and 12 digits whose first three digits are 999, not
    a local authority's number, and whose letter is not the real check letter;
  - towns, schools, GP practices and services are made up ("Northtown", "Ashcombe Vale").
The same seed (and the same starting state of the database, and the same day) gives the
same rows.

    generate(engine, 1_000_000, seed=1)      # about 3–4 min for a million on SQLite (2-core machine, ~5,000/s:
                                             # most of it is encrypting 13 values a child)
    sample_lookups(engine, 100, seed=7)      # existing children to look up, for the benchmark

Bulk loading: rows go in with SQLAlchemy Core executemany, `batch` children per transaction,
on one dedicated connection. The inserts go through the tables' column types, so the personal
details are encrypted as they are written (the engine needs its keys: guide.db.make_engine with
a key ring); the blind indexes the ORM would fill on flush (upn_key, identity_key) are computed
here, with the same rules (guide/index/names.py). On SQLite that connection runs with PRAGMA
synchronous=OFF and a 256 MB page cache while it loads (a crash mid-load can lose the last batches but cannot
corrupt the database in WAL mode); both are put back before the connection returns to the
pool, so the app's own connections keep synchronous=FULL.
"""

from __future__ import annotations

import os
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from ..crypto import bound_rows, keyring_of
from ..models import IndexChild, IndexConcern, IndexInvolvement, User
from .names import identity_text, name_key, upn_key
from .policy import IndexPolicy, load_policy


def _unique(words: str) -> list[str]:
    return list(dict.fromkeys(w.replace("_", " ") for w in words.split()))


# --- names: common and less common in the UK, from many backgrounds (ASCII only: the
# look-up form takes letters, spaces, hyphens and apostrophes: index/names.py is_full_name) -----------------

GIRLS = _unique("""
Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella Poppy
Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia Maya Millie
Isabelle Eva Luna Jessica Aria Scarlett Chloe Esme Margot Ellie Harriet Thea Mila Erin Holly Imogen Layla
Hannah Zara Aisha Amira Maryam Fatima Zainab Hafsa Inaya Anaya Aaliyah Priya Ananya Diya Saanvi Kavya
Simran Harleen Jasleen Nia Amara Zuri Adaeze Chioma Ngozi Ifeoma Abena Ama Efua Yaa Keisha Shanice Tiana
Oliwia Zuzanna Julia Lena Maja Hanna Alicja Wiktoria Ioana Andreea Elena Bianca Mei Ling Xin Yan Siobhan
Niamh Aoife Ciara Roisin Orla Saoirse Caoimhe Eilidh Ailsa Kirsty Morag Catriona Seren Cerys Ffion Megan
Carys Bethan Sian Lowri Gwen Rhiannon Tegan Leah Jade Paige Courtney Chelsea Kayleigh Demi Libby Katie
Amy Lucy Laura Rebecca Sarah Rachel Nicole Bella Lola Iris Ada Edith Violet Hallie Beatrice Nancy Maisie
Robyn Skye Aurora Myla Delilah Elodie Hope Summer Amber Eden Naomi Hana Yasmin Noor Sana Safa Khadija
Ayesha Sumaya Hodan Leila Mariam Esther Deborah Blessing Precious Favour Tolu Temi Folake Yetunde Ruth
Georgia Abigail Molly Lottie Martha Annabelle Eliza Heidi Jasmine Lyla Nova Ayla Mabel Rose Clara Ivy-Rose
Mae Zoe Tilly Lacey Jorgie Gracie-Mae Amelie Anna Niamh-Rose Darcie Bonnie Esmae Kiara Nyla Safiya Arya
""")

BOYS = _unique("""
Oliver George Noah Arthur Leo Muhammad Oscar Harry Archie Jack Henry Charlie Freddie Theodore Thomas Finley
Theo Alfie Jacob William Isaac Tommy Joshua James Lucas Alexander Arlo Teddy Ethan Edward Max Elijah Mason
Reggie Harrison Louie Albie Rory Hugo Sebastian Ronnie Frankie Jude Dylan Toby Luca Ezra Jaxon Samuel
Daniel Benjamin Joseph Adam Harvey Jenson Riley Logan Kai Tyler Callum Connor Liam Ryan Jordan Kieran
Bradley Nathan Jamie Lewis Owen Rhys Dafydd Gethin Ioan Cai Osian Iwan Euan Fraser Angus Hamish Calum
Ruaridh Lachlan Finlay Cillian Oisin Padraig Ciaran Eoin Darragh Sean Conor Mohammed Mohammad Ibrahim
Yusuf Ali Omar Hamza Zayn Ayaan Bilal Idris Musa Ismail Hassan Hussain Abdullah Rayyan Arjun Aarav Vihaan
Rohan Dev Krish Ravi Sahil Harjit Gurpreet Jaspreet Kwame Kofi Kwabena Yaw Chidi Emeka Obinna Tunde Femi
Dayo Segun Tobi David Michael Joel Elias Jayden Tyrese Marcus Malik Andre Jerome Dwayne Kacper Jakub
Szymon Filip Mateusz Antoni Wojciech Andrei Mihai Stefan Luka Marko Wei Jun Hao Minh Tuan Bao Ahmed
Khalid Tariq Faisal Mustafa Abdi Mahad Liban Said Ilyas Ollie Jake Matthew Luke Zachary Caleb Dexter
Stanley Ralph Felix Jasper Rupert Otis Milo Ellis Rowan Blake Carter Bobby Alfie-James Tommy-Lee Gabriel
Aaron Kayden Aiden Reuben Zain Eesa Zakariya Musab Kian Ashton Brandon Cole Declan Patrick Aidan Jonah
""")

EITHER = _unique("Alex Sam Jesse Robin Morgan Avery Rowan Ash Eli River Sasha Kit Charlie Jamie Frankie Remi Ari Jules")

FAMILY = _unique("""
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright
Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill
Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price
Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox
Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers
Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell
Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard
Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis
Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons
Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird
Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross
Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins
O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne
Johnston Gordon Doyle Wallace Jordan Hutchinson Rahman Miah Islam Uddin Chowdhury Akhtar Iqbal Malik
Mahmood Qureshi Rashid Aziz Hassan Mohamed Abdi Osman Farah Warsame Okafor Okonkwo Adeyemi Adebayo
Ogunleye Mensah Asante Owusu Boateng Appiah Osei Nwosu Eze Obi Beckford Samuels Nowak Kowalski Wisniewski
Wojcik Kaminski Lewandowski Zielinski Szymanski Dabrowski Kozlowski Popescu Ionescu Popa Stan Dumitru Wang
Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Nguyen Tran Pham Sharma Kumar Gupta Mistry Joshi Mehta Desai
Chauhan Sandhu Sidhu Dhillon Grewal Bains Johal MacLeod MacDonald Fraser Sinclair Munro Ferguson Cameron
Gallagher Quinn Doherty Kavanagh Brennan Flanagan Pritchard Llewellyn Vaughan Bowen Howells Prosser
Da_Silva Santos Ferreira Costa Rossi Russo Yilmaz Demir Kaya Papadopoulos Georgiou Christodoulou Mahmoud
Haddad Hussein Karimi Ahmadi Hosseini Smith-Jones Taylor-Brown Ahmed-Khan Lloyd-Williams Okoro Achterberg
Van_der_Berg Fitzgerald McLaughlin Donnelly Hughes-Evans
""")

TOWNS = ["Northtown", "Southbury", "Eastmarsh", "Westhollow", "Millbridge", "Kingsford Green", "Ashcombe Vale",
         "Brackenfield", "Larkmoor", "Stonewick", "Fernleigh Cross", "Thornwell", "Willowmere", "Foxhollow",
         "Greyhaven", "Ambleford", "Cresswick", "Dunmore Sands", "Heronsgate Park", "Copperbeck"]
# Three outward codes per town in the non-existent ZZ area: ZZ1–ZZ60.
OUTWARD = {town: [f"ZZ{3 * i + k}" for k in (1, 2, 3)] for i, town in enumerate(TOWNS)}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters real inward codes use

STREET_WORDS = _unique("""
Willow Oak Elm Ash Beech Birch Cedar Hazel Holly Larch Maple Rowan Chestnut Sycamore Alder Juniper Laurel
Poplar Station Church Mill Bridge Park Victoria Albert Queen's King's Princess Manor Grange Orchard Meadow
Brook River Spring Well Moor Heath Fern Primrose Bluebell Clover Heather Lavender Foxglove Kestrel Heron
Lark Wren Swallow Falcon Badger Otter Highfield Greenfield Westfield Northgate Southgate Eastgate Castle
Abbey Chapel School Market Canal Quarry Forge Tannery Ropewalk Windmill Lime Cherry Plum Acorn Thistle
Harebell Linnet Hawthorn Blackthorn Bramble Coppice Dovecote Saxon Tudor Regent Jubilee Coronation
""")
STREET_KINDS = ["Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Grove", "Gardens",
                "Place", "Terrace", "Court", "Walk", "Rise", "View", "Mews"]
BLOCK_KINDS = ["House", "Court", "Lodge", "Point", "Heights", "Tower"]
PRIMARY = ["Primary School", "Infant School", "Junior School", "Primary Academy", "C of E Primary School",
           "Catholic Primary School", "Community Primary School"]
SECONDARY = ["Academy", "High School", "School", "Community College", "Catholic High School", "Secondary School"]
GP_KINDS = ["Surgery", "Medical Centre", "Health Centre", "Medical Practice", "Family Practice"]

# (job titles, organisations) for each service category; "{town}" and "{school}" are filled in.
SERVICES = {
    "senco": (["SENCo", "Special Educational Needs Co-ordinator"], ["{school}"]),
    "pastoral_teacher": (["Head of Year", "Pastoral lead", "Designated safeguarding lead"], ["{school}"]),
    "education_welfare": (["Education Welfare Officer", "Learning mentor", "Attendance officer"],
                          ["{town} Education Welfare Service", "{town} Behaviour and Education Support Team"]),
    "educational_psychology": (["Educational psychologist"], ["{town} Educational Psychology Service"]),
    "sure_start": (["Family support worker", "Outreach worker"], ["{town} Sure Start Children's Centre"]),
    "connexions": (["Connexions personal adviser"], ["Connexions {town}"]),
    "youth_work": (["Youth worker", "Detached youth worker"], ["{town} Youth Service", "{town} Youth Club"]),
    "hospital_clinic": (["Paediatrician", "Clinical nurse specialist", "Paediatric registrar"],
                        ["{town} General Hospital", "{town} Children's Clinic"]),
    "school_community_nurse": (["School nurse", "Community children's nurse"], ["{town} School Nursing Team"]),
    "therapy": (["Occupational therapist", "Physiotherapist", "Speech and language therapist"],
                ["{town} Children's Therapy Service", "{town} Child Development Centre"]),
    "social_care": (["Social worker", "Senior social worker", "Family support worker"],
                    ["{town} Children's Social Care", "Northshire Children's Services"]),
    "sexual_health": (["Sexual health nurse", "Outreach nurse"], ["{town} Sexual Health Clinic"]),
    "hiv": (["Clinical nurse specialist (HIV)"], ["{town} HIV Service"]),
    "abortion": (["Nurse counsellor"], ["{town} Pregnancy Advisory Service"]),
    "teenage_pregnancy": (["Teenage pregnancy support worker", "Specialist midwife"], ["{town} Teenage Pregnancy Team"]),
    "substance_misuse": (["Young people's drug and alcohol worker"], ["{town} Young People's Substance Misuse Service"]),
    "youth_offending": (["Youth offending team officer", "Case manager"], ["Northshire Youth Offending Team"]),
    "mental_health": (["Child and adolescent mental health practitioner", "Clinical psychologist", "Psychotherapist"],
                      ["{town} CAMHS"]),
}
DEFAULT_SERVICE = (["Practitioner"], ["{town} Children's Services"])
# How often each category turns up (relative); any category not listed: 2.
CATEGORY_WEIGHT = {"social_care": 14, "senco": 12, "school_community_nurse": 10, "pastoral_teacher": 9,
                   "education_welfare": 7, "therapy": 7, "hospital_clinic": 6, "mental_health": 6, "sure_start": 5,
                   "youth_work": 5, "educational_psychology": 4, "connexions": 3, "youth_offending": 3,
                   "substance_misuse": 2, "sexual_health": 2, "teenage_pregnancy": 1, "hiv": 1, "abortion": 1}
JUSTIFICATIONS = [
    "Recorded without consent: the child is at risk of significant harm and other practitioners need to know to contact me.",
    "The young person could not be asked safely; recording is needed so services can co-ordinate support.",
    "Consent was sought but refused; a child protection enquiry is under way and the strategy meeting agreed recording.",
    "Parent lacks capacity at present and the child's welfare requires that other services can reach me.",
]
CONCERN_LEVELS = ["information"] * 5 + ["action"] * 3 + ["assessment"] * 2

# Each UPN's 12 digits: 999 then a 9-digit scramble of the row number (a bijection mod 10^9,
# so distinct rows give distinct numbers); the letter varies with row and seed.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_MULTIPLIER = 387_420_489  # 3^18: coprime to 10^9
UPN_OFFSET = 271_828_183
_SPAN_DAYS = 18 * 365 + 4  # ages 0–17: born up to 18 years (less a day) before today


def upn_for(row: int, seed: int) -> str:
    digits = (row * UPN_MULTIPLIER + UPN_OFFSET) % 1_000_000_000
    return f"{UPN_LETTERS[(digits + 7 * seed) % len(UPN_LETTERS)]}999{digits:09d}"


def _weighted(names: list[str]) -> list[str]:
    """A pool to draw from uniformly in which the first names are the commonest (4x, 2x, then 1x)."""
    return names[:40] * 4 + names[40:120] * 2 + names[120:]


def _default_policy() -> IndexPolicy | None:
    from ..config import DEFAULT_CONTENT
    directory = Path(os.environ.get("GUIDE_CONTENT_DIR") or DEFAULT_CONTENT)
    if not (directory / "index_policy.yaml").exists():
        return None
    return load_policy(directory)


def generate(engine: Engine, count: int, *, seed: int = 1, batch: int = 20000, with_involvements: bool = True,
             progress: Callable[[int, int], None] | None = None, policy: IndexPolicy | None = None,
             today: date | None = None) -> int:
    """Insert `count` synthetic children (and, for about 15%, involvements and a few concerns).

    `policy` gives the service categories (default: the content's index_policy.yaml; without one,
    no involvements). `progress(done, count)` is called after each batch. Returns the number of
    children inserted.
    """
    if count <= 0:
        return 0
    today = today or date.today()
    rng = random.Random(seed)
    if with_involvements and policy is None:
        policy = _default_policy()
    categories = []
    if with_involvements and policy is not None:
        # Option 3 services are never recorded on the index.
        categories = [c for c in policy.categories.values() if c.recording != 3]
    category_pool = [c for c in categories for _ in range(CATEGORY_WEIGHT.get(c.id, 2))]
    named_pool = [c.id for c in categories if c.visibility == "A"]

    inserted = 0
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        saved = {}
        if sqlite:
            saved = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("synchronous", "cache_size")}
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        connection.commit()
        try:
            user_ids = list(connection.execute(select(User.id).order_by(User.id)).scalars())
            next_child = (connection.execute(select(func.max(IndexChild.id))).scalar() or 0) + 1
            next_involvement = (connection.execute(select(func.max(IndexInvolvement.id))).scalar() or 0) + 1
            next_concern = (connection.execute(select(func.max(IndexConcern.id))).scalar() or 0) + 1
            connection.commit()
            maker = _Maker(rng, seed, today, category_pool, named_pool, user_ids, keyring_of(connection.dialect))
            while inserted < count:
                size = min(batch, count - inserted)
                children, involvements, concerns = maker.batch(next_child, size, next_involvement, next_concern)
                with connection.begin():
                    connection.execute(insert(IndexChild), bound_rows(IndexChild.__table__, children))
                    if involvements:
                        connection.execute(insert(IndexInvolvement), bound_rows(IndexInvolvement.__table__, involvements))
                    if concerns:
                        connection.execute(insert(IndexConcern), concerns)
                next_child += size
                next_involvement += len(involvements)
                next_concern += len(concerns)
                inserted += size
                if progress:
                    progress(inserted, count)
            if connection.dialect.name == "postgresql":
                # Explicit ids leave the sequences behind: move them on past the new rows.
                with connection.begin():
                    for table in ("index_children", "index_involvements", "index_concerns"):
                        connection.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))")
        finally:
            if sqlite:
                if connection.in_transaction():
                    connection.rollback()
                for name, value in saved.items():
                    connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
                connection.commit()
    return inserted


class _Maker:
    """Makes the rows, drawing every choice from one seeded random stream, in order."""

    def __init__(self, rng: random.Random, seed: int, today: date, category_pool: list, named_pool: list[str],
                 user_ids: list[int], keyring):
        self.rng, self.seed, self.today = rng, seed, today
        self.blind_index = keyring.blind_index  # the newest key's, as the ORM's flush would store
        self.category_pool, self.named_pool, self.user_ids = category_pool, named_pool, user_ids
        self.girls, self.boys, self.either = _weighted(GIRLS), _weighted(BOYS), EITHER
        self.adults = _weighted(GIRLS + BOYS)
        self.family = _weighted(FAMILY)
        # Built once: making a timedelta costs more than the rest of a row's arithmetic.
        self.days = [timedelta(days=d) for d in range(_SPAN_DAYS + 1)]
        self.minutes = [timedelta(minutes=m) for m in range(1440)]
        self.dates = [today - self.days[d] for d in range(_SPAN_DAYS)]
        self.date_texts = [d.isoformat() for d in self.dates]
        self.midnight = datetime.combine(today, time(), tzinfo=timezone.utc)  # times are UTC, as utcnow()
        self.midnights = [self.midnight - self.days[d] for d in range(_SPAN_DAYS + 1)]
        self.streets = [f"{w} {k}" for w in STREET_WORDS for k in STREET_KINDS]
        self.blocks = [f"{w} {k}" for w in STREET_WORDS for k in BLOCK_KINDS]
        places = STREET_WORDS + TOWNS
        self.primaries = [f"{p} {k}" for p in places for k in PRIMARY]
        self.secondaries = [f"{p} {k}" for p in places for k in SECONDARY]
        self.colleges = [f"{t} College" for t in TOWNS] + [f"{t} Sixth Form College" for t in TOWNS]
        self.gps = [f"{p} {k}" for p in places for k in GP_KINDS]
        self.keys = {name: name_key(name) for name in GIRLS + BOYS + EITHER + FAMILY}
        self.household = None

    def phone(self) -> str:
        rnd = self.rng.random
        return f"07700 900{int(rnd() * 1000):03d}" if rnd() < 0.7 else f"01632 960{int(rnd() * 1000):03d}"

    def batch(self, first_id: int, size: int, first_involvement: int, first_concern: int):
        rnd = self.rng.random
        girls, boys, either, adults, family = self.girls, self.boys, self.either, self.adults, self.family
        n_girls, n_boys, n_either, n_adults, n_family = len(girls), len(boys), len(either), len(adults), len(family)
        dates, n_dates, midnights, minutes = self.dates, len(self.dates), self.midnights, self.minutes
        streets, blocks, gps = self.streets, self.blocks, self.gps
        primaries, secondaries, colleges = self.primaries, self.secondaries, self.colleges
        n_towns = len(TOWNS)
        seed, keys, blind_index, date_texts = self.seed, self.keys, self.blind_index, self.date_texts
        children, involvements, concerns = [], [], []
        next_involvement, next_concern = first_involvement, first_concern
        household = self.household
        for row in range(first_id, first_id + size):
            r = rnd()
            if r < 0.492:
                gender, given = "Female", girls[int(rnd() * n_girls)]
            elif r < 0.984:
                gender, given = "Male", boys[int(rnd() * n_boys)]
            else:
                gender, given = "Not stated", either[int(rnd() * n_either)]
            if household is None or rnd() >= 0.25:
                # A new household; otherwise (a quarter of the time) a brother or sister of the last child.
                surname = family[int(rnd() * n_family)]
                town_index = int(rnd() * n_towns)
                town = TOWNS[town_index]
                if rnd() < 0.12:
                    address = (f"Flat {1 + int(rnd() * 40)}, {blocks[int(rnd() * len(blocks))]}, "
                               f"{streets[int(rnd() * len(streets))]}, {town}")
                else:
                    address = f"{1 + int(rnd() * 180)} {streets[int(rnd() * len(streets))]}, {town}"
                postcode = (f"{OUTWARD[town][int(rnd() * 3)]} {int(rnd() * 10)}"
                            f"{INWARD_LETTERS[int(rnd() * 20)]}{INWARD_LETTERS[int(rnd() * 20)]}")
                carer_surname = surname if rnd() < 0.8 else family[int(rnd() * n_family)]
                carer = f"{adults[int(rnd() * n_adults)]} {carer_surname}"
                gp = gps[int(rnd() * len(gps))]
                household = (surname, town, address, postcode, carer, self.phone(), gp)
            surname, town, address, postcode, carer, contact, gp = household
            age_days = int(rnd() * n_dates)
            dob = dates[age_days]
            age = age_days // 365
            if age < 4:
                school = ""
            elif age < 11:
                school = primaries[int(rnd() * len(primaries))]
            elif age < 16 or rnd() < 0.4:
                school = secondaries[int(rnd() * len(secondaries))]
            else:
                school = colleges[int(rnd() * len(colleges))]
            health_visitor = (f"{adults[int(rnd() * n_adults)]} {family[int(rnd() * n_family)]}, "
                              f"{town} Health Visiting Team") if age < 5 else ""
            # Known to the index since birth, or since some day in the last four years (08:00–20:00).
            known_days = min(age_days, int(rnd() * 1461))
            created_at = midnights[known_days] + minutes[480 + int(rnd() * 720)]
            upn = upn_for(row, seed)
            children.append({
                "id": row, "upn": upn, "upn_key": blind_index(upn_key(upn)), "family_name": surname,
                "given_name": given, "dob": dob,
                "identity_key": blind_index(identity_text(keys[surname], keys[given], date_texts[age_days])),
                "gender": gender,
                "address": address, "postcode": postcode, "carer_name": carer, "carer_contact": contact,
                "school": school, "gp_practice": gp, "health_visitor": health_visitor, "created_at": created_at,
            })
            if self.category_pool and rnd() < 0.15:
                made = self._involvements(row, town, school, known_days, created_at, next_involvement, next_concern)
                involvements.extend(made[0])
                concerns.extend(made[1])
                next_involvement += len(made[0])
                next_concern += len(made[1])
        self.household = household
        return children, involvements, concerns

    def _involvements(self, child_id: int, town: str, school: str, known_days: int, created_at: datetime,
                      first_id: int, first_concern: int):
        rnd = self.rng.random
        r = rnd()
        wanted = 1 if r < 0.6 else 2 if r < 0.9 else 3
        chosen = []
        for _ in range(wanted * 3):
            category = self.category_pool[int(rnd() * len(self.category_pool))]
            if category not in chosen and (school or category.id not in ("senco", "pastoral_teacher")):
                chosen.append(category)
            if len(chosen) == wanted:
                break
        rows, concerns = [], []
        now, days, minutes = self.midnight, self.days, self.minutes
        window = max(1, min(known_days, 3 * 365))  # recorded within the last three years, after the child was known
        for index, category in enumerate(chosen):
            titles, organisations = SERVICES.get(category.id, DEFAULT_SERVICE)
            organisation = organisations[int(rnd() * len(organisations))].format(town=town, school=school or town)
            if category.recording == 1:
                consent, justification = "not_required", ""
            elif rnd() < 0.9:
                consent, justification = "given", ""
            else:
                consent, justification = "exceptional", JUSTIFICATIONS[int(rnd() * len(JUSTIFICATIONS))]
            named = []
            if category.visibility == "C" and self.named_pool and rnd() < 0.5:
                named = sorted({self.named_pool[int(rnd() * len(self.named_pool))] for _ in range(1 + int(rnd() * 2))})
            # In working hours (08:00–18:00) on a day before today.
            recorded_at = max(created_at, self.midnights[1 + int(rnd() * window)] + minutes[480 + int(rnd() * 600)])
            reviewed_at = recorded_at + days[int(rnd() * max(1, (now - recorded_at).days))]
            ended_at = None
            if rnd() < 0.1:
                ended_at = reviewed_at + days[int(rnd() * max(1, (now - reviewed_at).days))]
            involvement_id = first_id + index
            lead = index == 0 and rnd() < 0.25
            rows.append({
                "id": involvement_id, "child_id": child_id, "practitioner_id": None,
                "practitioner_name": f"{self.adults[int(rnd() * len(self.adults))]} {self.family[int(rnd() * len(self.family))]}",
                "job_title": titles[int(rnd() * len(titles))], "organisation": organisation, "contact": self.phone(),
                "category": category.id, "lead_professional": lead, "consent": consent,
                "justification": justification, "named_categories": named, "recorded_at": recorded_at,
                "reviewed_at": reviewed_at, "ended_at": ended_at,
                # Made-up leads count as granted (when they were recorded), as a real one is once confirmed.
                "lead_granted_at": recorded_at if lead else None,
            })
            if self.user_ids and ended_at is None and rnd() < 0.12:
                raised_at = recorded_at + days[int(rnd() * max(1, (now - recorded_at).days))]
                closed_at = raised_at + days[int(rnd() * max(1, (now - raised_at).days))] if rnd() < 0.2 else None
                concerns.append({
                    "id": first_concern + len(concerns), "child_id": child_id, "involvement_id": involvement_id,
                    "raised_by": self.user_ids[int(rnd() * len(self.user_ids))],
                    "level": CONCERN_LEVELS[int(rnd() * len(CONCERN_LEVELS))], "raised_at": raised_at,
                    "closed_at": closed_at,
                })
        return rows, concerns


def sample_lookups(engine: Engine, n: int, seed: int) -> list[dict]:
    """`n` existing children picked at random (without repeats; fewer if there are fewer children),
    with what a look-up needs: id, upn, family_name, given_name, dob, postcode."""
    rng = random.Random(seed)
    columns = (IndexChild.id, IndexChild.upn, IndexChild.family_name, IndexChild.given_name, IndexChild.dob,
               IndexChild.postcode)
    with engine.connect() as connection:
        low, high, total = connection.execute(
            select(func.min(IndexChild.id), func.max(IndexChild.id), func.count())).one()
        if not total or n <= 0:
            return []
        n = min(n, total)
        found: dict[int, dict] = {}
        tried: set[int] = set()
        order: list[int] = []
        while len(found) < n:
            # Ids are mostly contiguous: draw ids, keep those that exist, draw again for the gaps.
            untried = high - low + 1 - len(tried)
            wanted = min(untried, (n - len(found)) * 2 if tried else n - len(found))
            if wanted <= 0:
                break
            picks = []
            while len(picks) < wanted:
                candidate = low + int(rng.random() * (high - low + 1))
                if candidate not in tried:
                    tried.add(candidate)
                    picks.append(candidate)
            for start in range(0, len(picks), 500):
                chunk = picks[start:start + 500]
                for row in connection.execute(select(*columns).where(IndexChild.id.in_(chunk))).mappings():
                    found[row["id"]] = dict(row)
                order.extend(chunk)
        picked = [found[i] for i in order if i in found]
    return picked[:n]
