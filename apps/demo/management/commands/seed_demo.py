from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.demo.seed import DEMO_PASSWORD, SeedError, load_seed_review, read_seed


class Command(BaseCommand):
    help = (
        "Load the seed review (project takfiri-isolationism) with the demo users supervisor, "
        "analyst, analyst2 and student. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--texts",
            type=Path,
            help="Folder with the seed articles' text files, stored as the sources' full text.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the seed project and load it afresh."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo users have a published password.",
        )

    def handle(self, *args, texts: Path | None, reset: bool, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password, so it refuses to run with "
                "DEBUG off. Set DEBUG=1 for a local demo, or pass --force if you mean it."
            )
        if texts is not None and not texts.is_dir():
            raise CommandError(f"--texts {texts}: no such folder.")
        try:
            result = load_seed_review(read_seed(), texts_dir=texts, reset=reset)
        except SeedError as error:
            raise CommandError(str(error)) from error

        project = result.project
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Loaded the seed review into “{project.slug}”."))
        else:
            added = (
                f"added the text of {result.texts_added} source(s) that had none"
                if result.texts_added
                else "nothing changed"
            )
            self.stdout.write(
                f"Project “{project.slug}” already exists; {added} (use --reset to load it "
                "again from scratch)."
            )
        self.stdout.write(f"Demo users (password: {DEMO_PASSWORD}):")
        for username, role in result.users:
            self.stdout.write(f"  {username:<12} {role}")
