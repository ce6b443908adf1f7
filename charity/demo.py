"""Demo pages for `seed_demo`, written from the seed facts; placeholders are marked as such."""

from charity.models import Page, Person

PAGES = [
    {
        "slug": "about",
        "title": "About us",
        "position": 1,
        "summary": "Who we are, what we fund, and how we choose where gifts go.",
        "body": """\
Podari.Life is a charity registered in the United States that raises money for children with
cancer in Russia. We work with the Russian foundation Podari Zhizn ("Gift of Life") and with the
hospitals where its patients are treated.

## What we fund

- **New treatment.** Most children with acute lymphoblastic leukemia recover on standard
  therapy, but about one in five do not. For them, CAR T-cell therapy, in which a child's own
  immune cells are re-trained to find the cancer, is often the last option. We pay for the
  groundwork that lets Russian hospitals offer it.
- **Doctors' education.** Since 2011 our donors have paid for more than 70 doctors from Russian
  clinics to train with colleagues abroad and bring new methods home.
- **Where it is needed most.** Gifts without a project go where the need is greatest that month.

## How you can check us

Every project page shows what was given, what was spent and what is left, with the stories that
report each payment. Our financial reports are on the [Financial reports](/financial-reports/)
page.
""",
    },
    {
        "slug": "financial-reports",
        "title": "Financial reports",
        "position": 2,
        "summary": "Annual reports and tax filings.",
        "body": """\
We publish what we raise and what we spend, project by project, on each project's page, and a
machine-readable ledger of every payment beside it.

Our annual reports and IRS Form 990 filings are listed below as they are published.
*(Demo site: no real reports are attached.)*
""",
    },
    {
        "slug": "privacy",
        "title": "Privacy policy",
        "position": 3,
        "summary": "What we keep about donors, why, and for how long.",
        "body": """\
## What we keep

When you give, we keep your name, your email address (the one you confirm on our payment
processor's page), the amount, the project and the date, any dedication you write, and
whether you asked for stories by email. Card details go to our payment processor, Stripe, and
never reach our servers.

## Why

To send your receipt and, if you ask for it, stories about what your gift paid for; to keep the
accounts the law requires of a charity.

## Who sees it

Only the staff who keep our accounts. We never sell or share donor lists, and we never show your
email address on the site. Your name appears on a project page only if you tick the box that
asks for it, in alphabetical order with the names of the same day's donors, never beside an
amount.

## Your choices

Every email we send has a link to stop further emails; ticking "email me stories" again after
that only sends you a link to confirm. On *Manage my giving* you can download everything we
hold about you, or have it erased (below).
""",
    },
    {
        "slug": "contact",
        "title": "Contact",
        "position": 4,
        "summary": "How to reach us.",
        "body": """\
Write to us at **hello@podari.life**. We answer within two working days.

For questions about a gift, please include the date and the amount, but never your card number.

*(Demo site: the postal address in the footer is a placeholder.)*
""",
    },
]


def seed_pages():
    """Create the demo pages that do not exist yet; returns how many were created."""
    created = 0
    for spec in PAGES:
        fields = {key: value for key, value in spec.items() if key != "slug"}
        _, was_created = Page.objects.get_or_create(slug=spec["slug"], defaults=fields)
        created += was_created
    return created


# Demo people: invented names, marked as demo, so no one mistakes them for the real board.
PEOPLE = [
    {"name": "Anna Example (demo)", "role": "Board chair", "group": Person.Group.BOARD, "position": 1},
    {"name": "Boris Sample (demo)", "role": "Treasurer", "group": Person.Group.BOARD, "position": 2},
    {"name": "Clara Placeholder (demo)", "role": "Secretary", "group": Person.Group.BOARD, "position": 3},
    {"name": "Dmitri Demo (demo)", "role": "Executive director", "group": Person.Group.STAFF, "position": 1},
    {
        "name": "Elena Example (demo)",
        "role": "Grants and compliance",
        "group": Person.Group.STAFF,
        "position": 2,
    },
]


def seed_people():
    """Create the demo people that do not exist yet; returns how many were created."""
    created = 0
    for spec in PEOPLE:
        _, was_created = Person.objects.get_or_create(name=spec["name"], defaults=spec)
        created += was_created
    return created
