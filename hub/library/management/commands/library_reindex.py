from django.core.management.base import BaseCommand

from hub.library import search


class Command(BaseCommand):
    help = "Rebuild the library's full-text index from the published resources."

    def handle(self, *args, **options):
        count = search.rebuild()
        self.stdout.write(self.style.SUCCESS(
            f"Indexed {count} published resources with {search.engine().name}."))
