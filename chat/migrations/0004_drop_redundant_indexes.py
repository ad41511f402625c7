# Drops two indexes that other indexes make redundant: chat_message(conversation_id)
# (served by chat_msg_conv_id_idx on (conversation_id, id)) and chat_event(user_id)
# (served by the unique (user_id, seq) index). Only the indexes go: the foreign keys
# stay as they are, so no constraint is dropped and re-validated on large tables.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_calls"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="chat.conversation",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS chat_event_user_id_44291ae1",
                    reverse_sql="CREATE INDEX chat_event_user_id_44291ae1 ON chat_event (user_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS chat_message_conversation_id_a1207bf4",
                    reverse_sql=(
                        "CREATE INDEX chat_message_conversation_id_a1207bf4 "
                        "ON chat_message (conversation_id)"
                    ),
                ),
            ],
        ),
    ]
