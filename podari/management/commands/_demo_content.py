"""The demo content `manage.py seed_demo` loads: projects, stories and example gifts.

The facts come from Podari.Life's own published material and public news reports;
the wording is our own. Gifts are invented examples: example.com addresses, and
first names with an initial only.
"""

from datetime import UTC, datetime


def when(year, month, day, hour=10):
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


CAR_T = "car-t-therapy"
DOCTORS = "doctors-education"
GENERAL = "general-fund"

PROJECTS = [
    {
        "slug": CAR_T,
        "title": "CAR-T cell therapy for children in Russia",
        "short_name": "CAR-T therapy",
        "summary": (
            "Helping bring CAR-T cell therapy, which turns a child's own immune cells against "
            "leukemia, within reach of children in Russia for whom standard treatment has failed."
        ),
        "description": """\
Most children with acute lymphoblastic leukemia (ALL) can now be treated successfully: around
eight in ten respond to a well-established plan, provided they get it in time at a strong
center such as Moscow's Federal Pediatric Oncohematology Center (FNKC). This project is for the
other two in ten, whose illness does not give way to standard therapy, and for whom a bone marrow
transplant often fails too.

**CAR-T cell therapy** offers these children a new option. Doctors collect some of the child's
T cells (immune cells that normally fight infection), change them in a laboratory so that they
recognize the cancer, and then return them to the bloodstream to find and destroy it.

With Podari Zhizn, our sister charity, and the FNKC, we support the long, careful work of bringing
this technology to Russia: coordinating the science, agreeing on the medical protocols and winning
regulatory approval. Our first grant of $5,000 paid for the clinical description of the
therapy that Russia's Ministry of Health asks for before a treatment can be tested and used.

Your gift to this project pays for the steps that follow. We report on each of them in our
stories, so you can always see what your money did.
""",
        "goal_minor": 5_000_000,
        "milestones": [
            # $5,000, as its story and the use of funds it reports say.
            (500_000, "prepare the documents Russia's Ministry of Health asks for", "car-t-first-milestone"),
            (1_000_000, "pay for the laboratory supplies for the next patient's cell product", None),
            (2_500_000, "bring a US CAR-T specialist to Moscow to train the team", None),
        ],
        "amounts": [
            (2_500, "helps pay for the blood tests a child needs during treatment"),
            (5_000, "buys the reagents to check how a child's changed T cells are doing"),
            (10_000, "pays for a day of a nurse's care after the infusion"),
            (25_000, "goes toward the laboratory work of making one child's cell product"),
        ],
        "is_featured": True,
        "position": 10,
        "art": "cells",
        "image_alt": (
            "Illustration: a large coral-colored cell with Y-shaped receptors and two smaller white "
            "cells on a soft teal background, suggesting immune cells at work."
        ),
    },
    {
        "slug": DOCTORS,
        "title": "Education for doctors who treat children with cancer",
        "short_name": "Doctors' education",
        "summary": (
            "Sends Russian doctors to leading international conferences and brings specialists from "
            "abroad to Moscow clinics, so that children benefit from the newest knowledge."
        ),
        "description": """\
Treatment for childhood cancer and blood disorders improves every year, and a doctor who stops
learning soon falls behind. This program helps the specialists who care for children in Russian
hospitals keep pace with their field and pass what they learn on to their colleagues at home.

We cover registration fees so that Russian doctors and researchers can attend major
international conferences and symposia, and we pay for their travel, lodging and visas.
These meetings are still one of the main ways new methods spread through medicine, and they build
working relationships between doctors across borders.

The program also works in the other direction. It invites leading specialists from other countries
to partner clinics in Moscow to consult on patients, give lectures, teach master classes and
operate side by side with Russian surgeons, covering the cost of their trips and visas.

Since 2011, donors' support has allowed over 70 doctors working in Russian hospitals to take part.
The aim is for new treatments to reach children in Russia as soon as they reach children in
America and Europe.
""",
        "goal_minor": 2_000_000,
        "milestones": [
            (150_000, "send a young hematologist to a major international conference", None),
            (500_000, "bring a visiting specialist to Moscow for a week of master classes", None),
        ],
        "amounts": [
            (2_500, "buys a medical handbook for a young doctor"),
            (5_000, "pays for a doctor's day pass at a scientific meeting"),
            (10_000, "covers a doctor's visa for an international conference"),
            (25_000, "pays a doctor's registration at a major international conference"),
        ],
        "quote": (
            "With constant training, a doctor need not fear that their knowledge will go out of "
            "date, and so they keep practicing and save hundreds of children's lives."
        ),
        "photos": [
            (
                "globe",
                "Illustration: a globe with lines joining cities around the world.",
                "Conferences our doctors attended, from Moscow to San Diego.",
            ),
            (
                "network",
                "Illustration: dots joined by thin lines into a network.",
                "Colleagues who keep working together after a master class.",
            ),
        ],
        "quote_name": "Dr. Mikhail Maschan",
        "quote_role": "Deputy Director General, Dmitry Rogachev National Medical Research Center",
        "is_featured": False,
        "position": 20,
        "art": "network",
        "image_alt": (
            "Illustration: white and dark blue dots joined by thin lines into a network, on a pale "
            "blue and lavender background."
        ),
    },
    {
        "slug": GENERAL,
        "title": "Where it is needed most",
        "short_name": "Most needed",
        "summary": (
            "A gift without a label lets us act quickly: it goes to whichever of our projects needs "
            "it most at the time."
        ),
        "description": """\
Not every need can be planned for. A gift to the general fund lets Podari.Life put money where it
will do the most good right now, whether that is the next step in bringing CAR-T cell therapy to
Russia or training for the doctors who look after children with cancer.

When you give without choosing a project, your gift comes here. Our team decides how to use it
and tells you about it in the stories on this site.

Thank you for trusting us with that choice.
""",
        "goal_minor": None,
        "is_general_fund": True,
        "is_featured": False,
        "position": 30,
        "art": "heart",
        "image_alt": (
            "Illustration: a red heart framed in white with small white hearts around it, on a warm "
            "peach and rose background."
        ),
    },
]

STORIES = [
    {
        "slug": "yelena-birthday",
        "title": "Instead of presents, Yelena asked for gifts to children with cancer",
        "summary": (
            "No friend of Podari.Life had turned a birthday into a fundraiser before Yelena. She asked "
            "the people close to her to donate instead of buying her a present."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2025, 6, 18),
        "projects": [GENERAL],
        "art": "balloons",
        "image_alt": (
            "Illustration: five colorful balloons on curly strings against a soft pink and peach background."
        ),
        "body": """\
Birthdays usually come with presents. Yelena chose a different kind of celebration: she became the
very first of Podari.Life's friends to dedicate her birthday to our work, and asked her family and
friends to make a donation instead of buying her something.

## Why a birthday fundraiser matters

One person's celebration becomes help for many children. It also introduces our work to people
who may never have heard of it, through someone they know and trust.

## Would you like to do the same?

It is simple to follow Yelena's lead:

1. Choose a cause: [CAR-T cell therapy](/projects/car-t-therapy/),
   [doctors' education](/projects/doctors-education/) or
   [where it is needed most](/projects/general-fund/).
2. Send the page's link to your friends, with a few words about why it matters to you.
3. Ask them to give whatever they can in place of a present. Each gift goes to the project they
   pick.

> Thank you, Yelena, for starting something we hope many others will carry on.
""",
    },
    {
        "slug": "car-t-first-milestone",
        "title": "First milestone: a clinical description of CAR-T for Russia's Ministry of Health",
        "summary": (
            "Your gifts paid $5,000 for the official clinical description of CAR-T therapy that "
            "Russia's Ministry of Health requires before the treatment can be tested and used."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2025, 8, 5),
        "projects": [CAR_T],
        "art": "documents",
        "image_alt": (
            "Illustration: a stack of papers with a green check mark beside it and a small round "
            "cell with Y-shaped receptors, on a cream and teal background."
        ),
        "body": """\
Most children who fall ill with acute lymphoblastic leukemia (ALL) today get better. A proven
treatment plan and a dependable supply of medicines mean that around eight in ten of them can be
treated successfully, as long as they are treated in time at a strong center such as Moscow's
Federal Pediatric Oncohematology Center (FNKC).

## The children standard treatment cannot help

For roughly one child in five, though, the usual therapy fails, and for many of them even a bone
marrow transplant does not work. Not long ago, that left their doctors with nothing more to try.

## What CAR-T therapy does

CAR-T cell therapy, developed largely in research laboratories in the United States, gives these
families a reason to hope. It works with the child's own immune system:

1. Doctors collect some of the child's T cells, the white blood cells that hunt down threats.
2. In a laboratory the cells are genetically changed so that they can recognize cancer cells.
3. The changed cells go back into the child's bloodstream, where they seek out the disease.

When this work began, CAR-T was still experimental. It was offered mainly in clinical trials in
the USA and Europe, and children in Russia could not get it.

## Our part, with your help

Podari.Life works on this with Podari Zhizn, our sister charity, and with the FNKC. In the long
run we want Russian children to be able to join international CAR-T trials and, later, to receive
the treatment at home. Getting there takes what is called technology transfer: scientists have to
coordinate, doctors have to agree on how the treatment is given, and regulators have to approve it.

The first requirement was a formal clinical description of the therapy, written to the standards
of Russia's Ministry of Health. Without it, permission to test and use the treatment cannot even be
requested.

Thanks to your donations, that first step is done.

!!! impact $5,000
    from Podari.Life's donors paid for preparing the clinical description and bringing it to
    its final form.

With the description submitted, government approval comes closer, and the way opens for future
work with the patent holders in the United States, and with research teams and hospitals.

## What comes next

The road ahead is long and this is only its start, but it is exactly the kind of work we exist
for: helping medical knowledge move forward and bringing modern treatment to young cancer patients
in Russia. You made it possible, and we are grateful. We will tell you about every next step.
""",
    },
    {
        "slug": "first-fundraising-event",
        "photos": [
            (
                "balloons",
                "Illustration: colorful balloons over the tables at the fundraising evening.",
                "Balloons for the evening, tied by volunteers.",
            ),
            (
                "heart",
                "Illustration: a red heart framed in white, the evening's emblem.",
                "The evening's emblem on every table.",
            ),
            (
                "confetti",
                "Illustration: confetti falling around a coral heart.",
                "The moment the total was announced.",
            ),
        ],
        "title": "$29,745 raised at our very first fundraising event",
        "summary": (
            "Podari.Life's first fundraising event brought in $29,745 for children with cancer. "
            "Thank you to everyone who took part and gave."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2025, 10, 22),
        "projects": [GENERAL, CAR_T],
        "art": "confetti",
        "image_alt": (
            "Illustration: confetti scattered around a coral heart inside soft white circles, on a "
            "peach and pink background."
        ),
        "body": """\
We have been looking forward to sharing this one. The total from Podari.Life's first ever
fundraising event:

!!! impact $29,745
    for children with cancer, from one evening with the friends of Podari.Life.

## What the total means

For a young charity this is a big number. For a sense of scale: our first grant toward bringing
CAR-T therapy to Russia, for the clinical description that the Ministry of Health requires, was
$5,000. This single event raised almost six times as much.

The takings went to the CAR-T project, where you can follow them, and what they pay for, in
[the project's ledger](/projects/car-t-therapy/#ledger).

## Thank you

To everyone who helped organize the event, took part and gave: thank you. You showed how much the
friends of Podari.Life can do together for children who need another chance.

## Missed it?

You can still add to the total. Give to the project that matters most to you:

- [Bringing CAR-T therapy to Russia's children](/projects/car-t-therapy/)
- [Education for doctors who treat children with cancer](/projects/doctors-education/)
- [Where it is needed most](/projects/general-fund/), our general fund
""",
    },
    {
        "slug": "car-t-access-2026",
        "title": "CAR-T in Russia in 2026: what has changed for children",
        "summary": (
            "A commercial CAR-T product has been used for children in Moscow, health insurance pays "
            "for the therapy from 2026, and a national center is licensed to make its own."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2026, 2, 12),
        "projects": [CAR_T],
        "art": "sunrise",
        "image_alt": (
            "Illustration: a warm sun rising in soft rings of orange and peach, with small round "
            "immune cells floating in a pale blue sky."
        ),
        "body": """\
Our CAR-T work began when the therapy was out of reach for children in Russia. A great deal has
changed since, and we want to share the main news with you. This is a summary of public reports,
not medical advice: families should always talk about treatment with their child's doctors.

## A first for children in Moscow

Kymriah (tisagenlecleucel), a CAR-T medicine made by the Swiss company Novartis, became the first
commercial one approved in Russia, in April 2023. Moscow's Morozov Children's Hospital then became,
in June 2025, the first in the country to treat children with a commercially made CAR-T product,
using Kymriah for ALL. The medicine was paid for with a grant from the Moscow city government.
Morozov is the only city-run hospital in Moscow that offers CAR-T therapy.

## Paid for by health insurance from 2026

At the end of 2025 the Ministry of Health said that the state health insurance system would
begin to pay for CAR-T therapy. From 2026, Russian citizens whose CD19-positive B-cell cancer
has come back or has not responded to treatment can receive it. The conditions covered include:

- B-cell non-Hodgkin lymphomas, diffuse large B-cell lymphoma among them;
- chronic lymphocytic leukemia when the outlook is poor, provided certain blood test criteria are
  met;
- acute lymphoblastic leukemia (ALL).

## A Russian-made product

So far, most CAR-T treatment in Russia has used products developed and made in the laboratories of
research centers; commercially made ones are still rare. The National Medical Research Center of
Hematology has gone furthest toward producing its own at scale. Its product, Utzhefra, is intended
to treat adults who have ALL or non-Hodgkin lymphoma. No center in the country had held every
license needed for industrial production before it, and it plans to make up to 600 personalized
cell products a year from 2026–2027. Utzhefra is still being tested: 60 patients are enrolled in
phase one of its clinical trial, and 30 of them had received it by July 2025.

## What it means for us

For children whose leukemia returns or resists treatment, this is encouraging news, and it shows
how much can change in a few years. We will keep following it and reporting here. Thank you for
staying with us.
""",
    },
    {
        "slug": "car-t-in-figures",
        "quote": (
            "CAR-T is for patients who have run out of options among the traditional methods: "
            "chemotherapy, immunotherapy and bone marrow transplant."
        ),
        "quote_name": "Anastasia Melnikova",
        "quote_role": "Clinical laboratory diagnostics physician, Onko Wiki project",
        "title": "CAR-T in Russia, by the numbers",
        "summary": (
            "Six centers, about 150 children treated since 2018, and what a single cell product "
            "costs: the key figures behind CAR-T therapy in Russia."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2026, 5, 20),
        "projects": [CAR_T],
        "art": "figures",
        "image_alt": (
            "Illustration: a bar chart of five rounded bars rising from left to right in soft green, "
            "blue and coral, on a pale mint and blue background."
        ),
        "body": """\
Supporters often ask how far CAR-T therapy has come in Russia and what it costs. Here are the main
figures from recent public reports.

!!! impact About 150
    children in Russia have been treated with CAR-T since 2018.

## Key figures

- **6** medical centers in Russia develop or use CAR-T therapy.
- **About 150** children in Russia have been treated with CAR-T since 2018.
- **$25,000–46,000** is the average cost of making one cell product in a hospital's own
  laboratory.
- **About $77,000** is the estimated cost of a complete course of CAR-T treatment for an adult.
- **$8.5 million** is the investment the country's largest hematology center is making in a
  facility to produce its own CAR-T.

## Where the cost comes from

Every CAR-T product is made for one patient. The estimate for a full course covers each stage:

1. collecting the patient's white blood cells;
2. changing the T cells in the laboratory so that they carry a chimeric antigen receptor;
3. growing enough of the changed cells;
4. chemotherapy that prepares the body for them (lymphodepletion);
5. the infusion itself;
6. the care and monitoring afterwards, including treatment of any complications.

## Why it suits some blood cancers

CAR-T has worked best against blood cancers such as multiple myeloma, B-cell acute lymphoblastic
leukemia and the B-cell forms of non-Hodgkin lymphoma. In B-cell leukemia and lymphoma the cancer
cells carry a marker called CD19, which the changed cells are built to recognize. And because
these cancers live in the blood, bone marrow and lymph system, the cells meet them directly after
an infusion.

## Where it started

Russia's first CAR-T treatments were given in 2018, to children with acute lymphoblastic
leukemia, at the Dmitry Rogachev center in Moscow. Several other national centers have since begun
to develop products of their own.

*These figures are for information only and are not medical advice. Decisions about treatment
belong with each family and their child's doctors.*
""",
    },
    {
        "slug": "doctors-keep-learning",
        "title": "Why we help doctors keep learning",
        "summary": (
            "Since 2011, donors have helped over 70 doctors from Russian hospitals learn alongside "
            "colleagues abroad. Here is how the education program works."
        ),
        "author_name": "Podari.Life team",
        "publish_at": when(2026, 9, 8),
        "projects": [DOCTORS],
        "art": "globe",
        "image_alt": (
            "Illustration: a globe drawn in violet lines, with coral dots around it joined by lines "
            "to a single point on its surface."
        ),
        "body": """\
Children's cancer care changes quickly. New medicines, new procedures and new ways of combining
them appear every year, and the doctors who treat children in Russia need to keep up with all of
it.

## What your gifts pay for

- **Conference fees**, so Russian doctors and researchers can attend the major international
  meetings in their field.
- **Travel, accommodation and visas** for those trips.
- **Visits to Moscow** by leading specialists from abroad, who consult on patients, lecture, teach
  master classes and operate together with Russian colleagues.

## Knowledge that travels

A doctor who returns from a conference brings what they learned back to the whole team. Visiting
specialists do the same in the other direction, and the professional friendships made along the
way make it easier to work together later.

Since 2011, donors' support has let over 70 doctors working in Russian hospitals take part in this
kind of training.

> Our aim: new treatments should reach children in Russia as soon as they reach children in
> America and Europe.

Thank you for helping them keep learning.
""",
    },
]

# Example online gifts, keyed by a made-up checkout session id. On the CAR-T project they
# add up to $3,200 net: $3,300 given, $100 of it refunded.
GIFTS = [
    # (session id, project, amount in cents, refunded cents, donor name, shown publicly, paid)
    ("cs_demo_001", CAR_T, 100_000, 0, "Anna K.", True, when(2025, 8, 7, 14)),
    ("cs_demo_002", CAR_T, 50_000, 0, "Daniel M.", False, when(2025, 9, 2, 18)),
    ("cs_demo_003", CAR_T, 25_000, 0, "Mikhail S.", True, when(2025, 11, 15, 9)),
    ("cs_demo_004", CAR_T, 75_000, 0, "Rachel B.", True, when(2026, 2, 14, 20)),
    ("cs_demo_005", CAR_T, 10_000, 0, "Igor V.", False, when(2026, 5, 22, 12)),
    ("cs_demo_006", CAR_T, 70_000, 10_000, "Olga P.", True, when(2026, 10, 3, 16)),
    ("cs_demo_007", DOCTORS, 30_000, 0, "Sarah L.", True, when(2026, 1, 19, 11)),
    ("cs_demo_008", DOCTORS, 15_000, 0, "Pavel N.", False, when(2026, 9, 10, 15)),
    ("cs_demo_009", DOCTORS, 5_000, 0, "Emily R.", True, when(2026, 10, 12, 19)),
    ("cs_demo_010", GENERAL, 10_000, 0, "Natalia G.", True, when(2025, 6, 20, 13)),
    ("cs_demo_011", GENERAL, 2_500, 0, "Tom H.", False, when(2025, 10, 23, 21)),
    ("cs_demo_012", GENERAL, 20_000, 0, "James W.", True, when(2026, 3, 8, 10)),
]

# Gifts that did not come through Stripe, keyed by a fixed public id. With the online
# gifts above, the CAR-T project's ledger tells one story: $5,000 given by July 2025 paid
# for the clinical description in August (the first milestone story), the first
# fundraising event brought in $29,745 in October, and the rest is still to spend:
# $37,945 raised, $5,000 used, $32,945 available; with the $175 given on Yelena's birthday
# page (FUNDRAISERS below), $38,120 raised and $33,120 available.
OFFLINE_GIFTS = [
    # (public id, project, source, amount in cents, date received, note)
    (
        "6f1c1c1e-0d1b-4c55-9a8e-000000000001", CAR_T, "bank_transfer", 300_000, when(2025, 7, 14),
        "Example: a bank transfer from a supporter, for the clinical description.",
    ),
    (
        "6f1c1c1e-0d1b-4c55-9a8e-000000000002", CAR_T, "cheque", 200_000, when(2025, 7, 28),
        "Example: checks collected among friends of Podari.Life.",
    ),
    (
        "6f1c1c1e-0d1b-4c55-9a8e-000000000003", CAR_T, "event", 2_974_500, when(2025, 10, 20),
        "Takings of Podari.Life's first fundraising event.",
    ),
]  # fmt: skip

# What gifts paid for, keyed by project and purpose.
FUND_USES = [
    {
        "project": CAR_T,
        "amount_minor": 500_000,
        "spent_on": when(2025, 8, 1).date(),
        "purpose": "the clinical description of CAR-T therapy for Russia's Ministry of Health",
        "stories": ["car-t-first-milestone"],
    },
]

# Checked figures for the home page, keyed by label.
VERIFIED_FIGURES = [
    {"value": "70+", "label": "doctors trained since 2011", "source_url": "/projects/doctors-education/"},
]


# A supporter's birthday fundraiser page. Dates are counted from the day the demo is first
# loaded, so the page is live and taking gifts then; loading again changes nothing.
FUNDRAISERS = [
    {
        "slug": "yelena-birthday-car-t",
        "supporter_email": "yelena@example.com",
        "supporter_name": "Yelena",
        "project": CAR_T,
        "title": "Yelena's birthday: gifts for CAR-T therapy",
        "occasion": "birthday",
        "goal_minor": 150_000,
        "days_left": 45,
        "art": "balloons",
        "image_alt": "Illustration: five colorful balloons on curly strings against a soft pink background.",
        "story": """\
This year I would rather not get presents. I was the first of Podari.Life's friends to give my
birthday to children with cancer, and I am doing it again.

Most children with acute lymphoblastic leukemia recover with standard treatment, but about one
in five does not, and some do not respond even to a bone marrow transplant. **CAR-T cell
therapy** teaches a child's own immune cells to find and destroy the cancer, and Podari.Life is
working to bring it within reach of children in Russia.

If you were going to buy me something, please give here instead. Every gift goes to the CAR-T
project, and I will read every name.
""",
        "thank_you_note": "Thank you all! Your gifts are the best birthday present I could ask for.",
        "gifts": [
            # (session id, amount in cents, donor name, what the owner sees, days before loading)
            ("cs_demo_f01", 10_000, "Marina T.", "name_amount", 6),
            ("cs_demo_f02", 5_000, "Pavel R.", "name", 4),
            ("cs_demo_f03", 2_500, "Katya L.", "anonymous", 2),
        ],
    },
]
