"""Load the demo data and the demo users: development only, safe to run again."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from failwell.roles import ADMINISTRATOR, OVERSIGHT_OFFICER, TURNAROUND_LEAD
from institutions.models import Institution, LeadAssignment
from interventions.bundle import BundleError, import_bundle, parse_json
from interventions.models import Intervention

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"

# Published in the README and printed on every run, hence development only.
DEMO_PASSWORD = "failwell-demo"

# username: (first name, last name, group, staff and superuser)
DEMO_USERS = {
    "officer": ("Olive", "Officer (demo)", OVERSIGHT_OFFICER, False),
    "lead": ("Lee", "Lead (demo)", TURNAROUND_LEAD, False),
    "admin": ("Ada", "Administrator (demo)", ADMINISTRATOR, True),
}

# The demo lead's institutions: the cases where leadership and transparency mattered.
LED_BY_DEMO_LEAD = (
    "eltham-foundation-school",
    "harris-academy-greenwich",
    "west-sussex-childrens-services",
)


class Command(BaseCommand):
    help = (
        "Load the demo bundles in failwell/demo/ (four real cases with illustrative figures, "
        "and fictional institutions covering every status) and create demo users for the "
        "three roles, with a printed password. Idempotent. Refuses unless DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (creates users with a published password).",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo creates users with a published password, so it runs only with "
                "DEBUG on. Use --force if you really want demo users on this site."
            )
        dirty: set[int] = set()
        with transaction.atomic():
            for path in sorted(DEMO_DIR.glob("*.json")):
                try:
                    summary = import_bundle(parse_json(path.read_text(encoding="utf-8")))
                except BundleError as error:
                    raise CommandError(
                        f"{path.name}: " + "\n  ".join(["demo bundle is invalid:", *error.errors])
                    ) from None
                dirty.update(summary.dirty)
                created = sum(counts["created"] for counts in summary.counts.values())
                updated = sum(counts["updated"] for counts in summary.counts.values())
                self.stdout.write(
                    f"{path.name}: {plural(len(summary.institutions), 'institution')}, "
                    f"{plural(created, 'row')} created, {updated} updated"
                )
            users = ensure_demo_users()
            assign_demo_lead(users["lead"])

        self.stdout.write("")
        self.stdout.write(f"Demo users (development only), password {DEMO_PASSWORD!r}:")
        for username, (_, _, group, _) in DEMO_USERS.items():
            self.stdout.write(f"  {username:8} {group}")
        self.stdout.write(f"{plural(len(dirty), 'institution')} queued for recompute.")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def ensure_demo_users() -> dict[str, User]:
    """The three demo users in their groups; an unchanged user is not written again."""
    users = {}
    for username, (first, last, group_name, superuser) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        wanted = {
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.invalid",
            "is_staff": superuser,
            "is_superuser": superuser,
            "is_active": True,
        }
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, wanted[name])
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        user.groups.add(Group.objects.get(name=group_name))
        users[username] = user
    return users


def assign_demo_lead(lead: User) -> None:
    """Assign the lead to their institutions from their first intervention, and make
    them the lead of those institutions' interventions."""
    for institution in Institution.objects.filter(slug__in=LED_BY_DEMO_LEAD):
        first = institution.interventions.order_by("started_on").first()
        if first is None:
            continue
        LeadAssignment.objects.get_or_create(
            institution=institution, lead=lead, starts_on=first.started_on
        )
    # The lead does not change a status, so no recompute: a plain update will do.
    Intervention.objects.filter(institution__slug__in=LED_BY_DEMO_LEAD).exclude(lead=lead).update(
        lead=lead
    )
