from django.db import migrations
from django.utils import timezone


def mark_live_stories_announced(apps, schema_editor):
    # Stories already on the site when impact emails began are old news: never email them.
    Story = apps.get_model("stories", "Story")
    StoryAnnouncement = apps.get_model("donors", "StoryAnnouncement")
    live = Story.objects.filter(status="published", publish_at__lte=timezone.now()).values_list("pk", flat=True)
    StoryAnnouncement.objects.bulk_create([StoryAnnouncement(story_id=pk) for pk in live], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0001_email_log_sign_in_links_story_announcements"),
    ]

    operations = [
        migrations.RunPython(mark_live_stories_announced, migrations.RunPython.noop),
    ]
