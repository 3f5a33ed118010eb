"""records.outdated looks for books behind the code (`version < V AND NOT needs_work`)
every minute per sweeper: an index on the version makes that a probe, not a read of every
user's book."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='book',
            index=models.Index(fields=['version'], name='book_by_version'),
        ),
    ]
