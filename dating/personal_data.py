"""Voice posts' personal data (P4, P13, P15): how it is exported, erased and kept.

Discovered by ``privacy`` (never imported by it by name); every step calls dating's
own services. The clip and photos of a post are media files of the user: their export
is in ``files/`` and media's own step deletes them from storage. Erase steps run from
the top layer down, so these run before chat's and media's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy

from dating import matching, voicematch
from dating import services as dating
from dating.models import (
    Match,
    PostComment,
    PostLike,
    PostListen,
    PostPhoto,
    PostReport,
    ProfileLike,
    ProfilePass,
    VoiceMatchSession,
    VoicePost,
)
from meetnow.lib.personal_data import Declaration, EraseStep, ExportSection, Strategy
from meetnow.lib.timestamps import iso


def _pseudonymise(queryset: Any, limit: int, **values: Any) -> int:
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])
    return PostReport.objects.filter(pk__in=ids).update(**values) if ids else 0


erase_steps: list[EraseStep] = [
    EraseStep(
        model="dating.VoiceMatchSession",
        action="delete",
        apply=lambda c, n, _: voicematch.sessions_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.Match",
        action="delete",
        apply=lambda c, n, _: matching.matches_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.ProfileLike",
        action="delete",
        apply=lambda c, n, _: matching.profile_likes_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.ProfilePass",
        action="delete",
        apply=lambda c, n, _: matching.passes_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.PostLike",
        action="delete",
        apply=lambda c, n, _: dating.likes_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.PostListen",
        action="delete",
        apply=lambda c, n, _: dating.listens_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.PostComment",
        action="delete",
        apply=lambda c, n, _: dating.comments_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.PostReport",
        action="pseudonymise_reported",
        apply=lambda c, n, _: _pseudonymise(
            PostReport.objects.filter(reported_user_id=c.user_id),
            n,
            reported_user=None,
            evidence_text="",
            evidence_files=[],
        ),
    ),
    EraseStep(
        model="dating.PostReport",
        action="pseudonymise_reporter",
        apply=lambda c, n, _: _pseudonymise(
            PostReport.objects.filter(reporter_id=c.user_id), n, reporter=None
        ),
    ),
    EraseStep(
        model="dating.PostReport",
        action="pseudonymise_moderator",
        apply=lambda c, n, _: _pseudonymise(
            PostReport.objects.filter(resolved_by_id=c.user_id), n, resolved_by=None
        ),
    ),
    EraseStep(
        model="dating.PostPhoto",
        action="delete",
        apply=lambda c, n, _: dating.photos_erase(user_id=c.user_id, limit=n),
    ),
    EraseStep(
        model="dating.VoicePost",
        action="delete",
        apply=lambda c, n, _: dating.posts_erase(user_id=c.user_id, limit=n),
    ),
]


def _post_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    posts = (
        VoicePost.objects.filter(author_id=uid, pk__gt=after)
        .select_related("voice")
        .prefetch_related("photos__media")
        .order_by("pk")[:limit]
    )
    return [
        (
            p.pk,
            {
                "uuid": str(p.uuid),
                "caption": p.caption,
                "audience": p.audience,
                "created_at": iso(p.created_at),
                "deleted_at": iso(p.deleted_at),
                "taken_down_at": iso(p.taken_down_at),
                # The recordings and photos themselves are in files/ under these ids.
                "voice": str(p.voice.uuid) if p.voice else None,
                "photos": [str(ph.media.uuid) for ph in p.photos.all() if ph.media],
                "like_count": p.like_count,
                "comment_count": p.comment_count,
                "listen_count": p.listen_count,
            },
        )
        for p in posts
    ]


def _comment_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        PostComment.objects.filter(author_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "uuid", "post__uuid", "text", "created_at", "taken_down_at")[:limit]
    )
    return [
        (
            pk,
            {
                "uuid": str(cuuid),
                "post": str(puuid),
                "text": text,
                "created_at": iso(created),
                "taken_down": down is not None,
            },
        )
        for pk, cuuid, puuid, text, created, down in rows
    ]


def _like_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        PostLike.objects.filter(user_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "post__uuid", "created_at")[:limit]
    )
    return [(pk, {"post": str(puuid), "created_at": iso(at)}) for pk, puuid, at in rows]


def _listen_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        PostListen.objects.filter(user_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "post__uuid", "created_at")[:limit]
    )
    return [(pk, {"post": str(puuid), "created_at": iso(at)}) for pk, puuid, at in rows]


def _report_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        PostReport.objects.filter(reporter_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "uuid", "reason", "details", "status", "outcome", "created_at")[:limit]
    )
    return [
        (
            pk,
            {
                "uuid": str(ruuid),
                "reason": reason,
                "details": details,
                "status": status,
                "outcome": outcome or None,
                "created_at": iso(created),
            },
        )
        for pk, ruuid, reason, details, status, outcome, created in rows
    ]


def _profile_like_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        ProfileLike.objects.filter(from_user_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "to_user__uuid", "created_at")[:limit]
    )
    return [(pk, {"user": str(u), "liked_at": iso(at)}) for pk, u, at in rows]


def _pass_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        ProfilePass.objects.filter(from_user_id=uid, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "to_user__uuid", "created_at", "until")[:limit]
    )
    return [
        (pk, {"user": str(u), "passed_at": iso(at), "hidden_until": iso(until)})
        for pk, u, at, until in rows
    ]


def _match_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    rows = (
        Match.objects.filter(Q(user_low_id=uid) | Q(user_high_id=uid), pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "uuid",
            "user_low_id",
            "user_low__uuid",
            "user_high__uuid",
            "conversation__uuid",
            "created_at",
            "ended_at",
        )[:limit]
    )
    return [
        (
            pk,
            {
                "uuid": str(muuid),
                "user": str(high if low_id == uid else low),
                "conversation": str(conv) if conv else None,
                "created_at": iso(created),
                "ended_at": iso(ended),
            },
        )
        for pk, muuid, low_id, low, high, conv, created, ended in rows
    ]


def _voice_match_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """The owner's side of each voice match: the other person only if both liked."""
    rows = (
        VoiceMatchSession.objects.filter(Q(caller_id=uid) | Q(callee_id=uid), pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "uuid",
            "caller_id",
            "caller__uuid",
            "callee__uuid",
            "call__uuid",
            "created_at",
            "ends_at",
            "caller_liked_at",
            "callee_liked_at",
            "match__uuid",
        )[:limit]
    )
    out: list[tuple[int, dict[str, Any]]] = []
    for pk, suuid, caller_id, caller, callee, call, created, ends, c_liked, e_liked, match in rows:
        mine = caller_id == uid
        out.append(
            (
                pk,
                {
                    "uuid": str(suuid),
                    "role": "offerer" if mine else "answerer",
                    "call": str(call) if call else None,
                    "paired_at": iso(created),
                    "call_limit_at": iso(ends),
                    "liked_at": iso(c_liked if mine else e_liked),
                    "match": str(match) if match else None,
                    "user": (str(callee if mine else caller)) if match else None,
                },
            )
        )
    return out


declarations: list[Declaration] = [
    Declaration(
        "dating.VoiceMatchSession",
        Strategy.DELETE,
        "dating_voice_matches.json",
        "dating_voice_match",
        "Voice matches: when, the anonymous call, the owner's own like; the other person "
        "only once both liked. Deleted at erasure (with the other side's record, which "
        "never named the user) and after the retention period.",
        remaining=lambda uid: VoiceMatchSession.objects.filter(
            Q(caller_id=uid) | Q(callee_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.ProfileLike",
        Strategy.DELETE,
        "dating_profile_likes.json",
        "account",
        "Likes the user sent are exported; likes received are not (private until mutual). "
        "Both are deleted at erasure.",
        remaining=lambda uid: ProfileLike.objects.filter(
            Q(from_user_id=uid) | Q(to_user_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.ProfilePass",
        Strategy.DELETE,
        "dating_passes.json",
        "dating_passes",
        "Passes the user made are exported; never who passed on them. Deleted once their "
        "hiding period is over, and at erasure.",
        remaining=lambda uid: ProfilePass.objects.filter(
            Q(from_user_id=uid) | Q(to_user_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.Match",
        Strategy.DELETE,
        "dating_matches.json",
        "account",
        "The user's matches (the other person's id, the conversation). Deleted at erasure; "
        "a live match's conversation is closed, its history stays for the other side.",
        remaining=lambda uid: Match.objects.filter(
            Q(user_low_id=uid) | Q(user_high_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.VoicePost",
        Strategy.DELETE,
        "dating_posts.json + files/",
        "dating_deleted_posts",
        "Posts the user published (caption, audience, counts); the clip and photos are "
        "the user's media files. With them go others' likes, comments and listens.",
        remaining=lambda uid: VoicePost.objects.filter(author_id=uid).count(),
    ),
    Declaration(
        "dating.PostPhoto",
        Strategy.DELETE,
        "dating_posts.json (photo ids) + files/",
        "dating_deleted_posts",
        "Links from a post to the user's photos, which the media step deletes.",
        remaining=lambda uid: PostPhoto.objects.filter(post__author_id=uid).count(),
    ),
    Declaration(
        "dating.PostLike",
        Strategy.DELETE,
        "dating_likes.json",
        "account",
        "Posts the user liked; the posts' like counts are corrected at erasure.",
        remaining=lambda uid: PostLike.objects.filter(
            Q(user_id=uid) | Q(post__author_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.PostComment",
        Strategy.DELETE,
        "dating_comments.json",
        "account",
        "What the user wrote under posts; comment counts are corrected at erasure.",
        remaining=lambda uid: PostComment.objects.filter(
            Q(author_id=uid) | Q(post__author_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.PostListen",
        Strategy.DELETE,
        "dating_listens.json",
        "dating_listens",
        "Posts the user played to the end; after 90 days only the post's count keeps it.",
        remaining=lambda uid: PostListen.objects.filter(
            Q(user_id=uid) | Q(post__author_id=uid)
        ).count(),
    ),
    Declaration(
        "dating.PostReport",
        Strategy.PSEUDONYMISE,
        "dating_reports.json",
        "reports",
        "Reports the user made are exported; reports about the user are not (the "
        "reporter stays private). At erasure the user is cleared from both, with "
        "the evidence snapshot.",
        remaining=lambda uid: PostReport.objects.filter(
            Q(reporter_id=uid) | Q(reported_user_id=uid) | Q(resolved_by_id=uid)
        ).count(),
    ),
]

export_sections: list[ExportSection] = [
    ExportSection(
        name="dating_voice_matches",
        filename="dating_voice_matches.json",
        description=gettext_lazy(
            "Your voice matches: when, the call, your like; who the other person "
            "was only if you both liked."
        ),
        rows=_voice_match_rows,
        count=lambda uid: VoiceMatchSession.objects.filter(
            Q(caller_id=uid) | Q(callee_id=uid)
        ).count(),
    ),
    ExportSection(
        name="dating_profile_likes",
        filename="dating_profile_likes.json",
        description=gettext_lazy("People you liked."),
        rows=_profile_like_rows,
        count=lambda uid: ProfileLike.objects.filter(from_user_id=uid).count(),
    ),
    ExportSection(
        name="dating_passes",
        filename="dating_passes.json",
        description=gettext_lazy("People you passed on, and until when they stay hidden."),
        rows=_pass_rows,
        count=lambda uid: ProfilePass.objects.filter(from_user_id=uid).count(),
    ),
    ExportSection(
        name="dating_matches",
        filename="dating_matches.json",
        description=gettext_lazy("Your matches: who, the conversation, when it began and ended."),
        rows=_match_rows,
        count=lambda uid: Match.objects.filter(Q(user_low_id=uid) | Q(user_high_id=uid)).count(),
    ),
    ExportSection(
        name="dating_posts",
        filename="dating_posts.json",
        description=gettext_lazy(
            "Your voice posts: caption, audience, counts, the ids of the clip and "
            "photos (the files are in files/)."
        ),
        rows=_post_rows,
        count=lambda uid: VoicePost.objects.filter(author_id=uid).count(),
    ),
    ExportSection(
        name="dating_comments",
        filename="dating_comments.json",
        description=gettext_lazy("What you wrote under voice posts."),
        rows=_comment_rows,
        count=lambda uid: PostComment.objects.filter(author_id=uid).count(),
    ),
    ExportSection(
        name="dating_likes",
        filename="dating_likes.json",
        description=gettext_lazy("The voice posts you liked."),
        rows=_like_rows,
        count=lambda uid: PostLike.objects.filter(user_id=uid).count(),
    ),
    ExportSection(
        name="dating_listens",
        filename="dating_listens.json",
        description=gettext_lazy("The voice posts you played to the end (the last 90 days)."),
        rows=_listen_rows,
        count=lambda uid: PostListen.objects.filter(user_id=uid).count(),
    ),
    ExportSection(
        name="dating_reports",
        filename="dating_reports.json",
        description=gettext_lazy("Your reports of voice posts and comments, and their outcomes."),
        rows=_report_rows,
        count=lambda uid: PostReport.objects.filter(reporter_id=uid).count(),
    ),
]
