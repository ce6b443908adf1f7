from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from podari import periodic


class Command(DBWorkerCommand):
    help = (
        "Run the background worker (django-tasks' db_worker), after queueing the periodic "
        "tasks (podari/periodic.py) that have no run waiting."
    )

    def handle(self, *args, **options):
        for path in periodic.ensure_scheduled():
            self.stdout.write(f"Queued periodic task {path}.")
        return super().handle(*args, **options)
