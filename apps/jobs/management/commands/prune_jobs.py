from django.core.management.base import BaseCommand

from apps.jobs.models import ImportJob, Job


class Command(BaseCommand):
    help = (
        "Delete finished jobs (with their files) older than a week and expired uploads; "
        "reports jobs whose process died. Run it daily (cron or a systemd timer)."
    )

    def handle(self, *args, **options) -> None:
        stale = 0
        for job in Job.objects.running():
            job.check_pulse()
            stale += job.state != "running"
        jobs, _ = Job.objects.expired().delete()
        uploads, _ = ImportJob.objects.expired().delete()
        self.stdout.write(
            f"{stale} dead job(s) reported; {jobs} old row(s) of jobs and their files and "
            f"{uploads} expired upload(s) deleted."
        )
