"""Voice posts REST API under /api/v1/dating/ (thin: parse, call one service or selector).

A post the caller may not see is a 404 everywhere (P11). Lists are cursor-paginated,
newest first, with a fixed number of queries. Errors use the single error shape.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import PublicProfileSerializer
from accounts.current import current_user
from accounts.models import Gender, User
from chat.models import ReportReason
from dating import matching, payloads, reports, selectors, services
from dating.models import Audience, PostState, VoicePost
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.schema import page_of
from meetnow.lib.throttling import OneRoundTripThrottlesMixin, PostScopedRateThrottle
from meetnow.lib.timestamps import iso


class _Input(serializers.Serializer[Any]):
    """Input serializer that refuses unknown fields (a typo is a 400, not ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [gettext_lazy("Unknown field.")] for name in unknown},
                    code="unknown_field",
                )
        return super().to_internal_value(data)


def _valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _Scoped(OneRoundTripThrottlesMixin, APIView):
    """A view whose POSTs also count against its own scoped limit (429 in the shape);
    both limits counted in one round trip."""

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), PostScopedRateThrottle()]


# --- Response shapes (documentation; bodies are built by dating.payloads) -------------


class FileOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    duration_ms = serializers.IntegerField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    urls = serializers.DictField(child=serializers.CharField(), help_text="Short-lived signed")

    class Meta:
        ref_name = "DatingFile"


class PostOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    author = PublicProfileSerializer()
    caption = serializers.CharField(allow_blank=True)
    audience = serializers.ChoiceField(choices=Audience.choices)
    state = serializers.ChoiceField(
        choices=PostState.choices,
        help_text="Others only ever see published posts; the author sees every state.",
    )
    created_at = serializers.DateTimeField()
    voice = FileOut(allow_null=True)
    photos = FileOut(many=True)
    like_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    listen_count = serializers.IntegerField(allow_null=True, help_text="The author's only")
    liked_by_me = serializers.BooleanField()

    class Meta:
        ref_name = "VoicePost"


class PostPageOut(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PostOut(many=True)

    class Meta:
        ref_name = "VoicePostPage"


class CommentOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    author = PublicProfileSerializer()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    taken_down = serializers.BooleanField(help_text="Shown to the comment's author only")
    can_delete = serializers.BooleanField()

    class Meta:
        ref_name = "PostComment"


class CommentPageOut(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CommentOut(many=True)

    class Meta:
        ref_name = "PostCommentPage"


class PostDetailOut(PostOut):
    comments = CommentPageOut()

    class Meta:
        ref_name = "VoicePostDetail"


class CountsOut(serializers.Serializer[Any]):
    like_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    listen_count = serializers.IntegerField(allow_null=True)
    liked_by_me = serializers.BooleanField()

    class Meta:
        ref_name = "VoicePostCounts"


class PostReportOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(allow_blank=True)
    post = serializers.UUIDField(allow_null=True)
    comment = serializers.UUIDField(allow_null=True)
    status = serializers.CharField()
    outcome = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "VoicePostReport"


class PostPagination(CursorPagination):
    page_size = 20
    ordering = "-id"


_PAGE_PARAMS = [OpenApiParameter("cursor", str), OpenApiParameter("limit", int)]


def _post_page(request: Request, view: APIView, queryset: Any, viewer: User) -> Response:
    paginator = PostPagination()
    page: list[VoicePost] = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response([payloads.post_payload(p, viewer=viewer) for p in page])


def _counts(post: Any, *, viewer: User, liked: bool) -> dict[str, Any]:
    return {
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "listen_count": post.listen_count if post.author_id == viewer.pk else None,
        "liked_by_me": liked,
    }


# --- Posts ----------------------------------------------------------------------------


class PostListApi(_Scoped):
    throttle_scope = "dating_post"

    class InputSerializer(_Input):
        voice = serializers.UUIDField(help_text="A dating_voice upload of mine")
        caption = serializers.CharField(
            required=False, allow_blank=True, max_length=services.CAPTION_MAX, default=""
        )
        photos = serializers.ListField(
            child=serializers.UUIDField(),
            required=False,
            max_length=services.PHOTOS_MAX,
            default=list,
            help_text="dating_photo uploads of mine",
        )
        audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.PUBLIC)

        class Meta:
            ref_name = "VoicePostCreate"

    @extend_schema(parameters=_PAGE_PARAMS, responses=PostPageOut, operation_id="dating_feed")
    def get(self, request: Request) -> Response:
        """The feed: recent public posts of people I may see, newest first."""
        user = current_user(request)
        paginator = PostPagination()

        def fetch(**window: Any) -> list[dict[str, Any]]:
            return selectors.feed_rows(viewer=user, **window)

        rows = paginator.paginate_rows(fetch, VoicePost, request, view=self) or []
        photos = selectors.feed_page_photos(rows)
        return paginator.get_paginated_response(payloads.feed_items_payload(rows, photos))

    @extend_schema(
        request=InputSerializer, responses={201: PostOut}, operation_id="dating_post_create"
    )
    def post(self, request: Request) -> Response:
        """Publish a voice post (others see it once its files are processed)."""
        user = current_user(request)
        data = _valid(self.InputSerializer, request.data)
        post = services.post_publish(author=user, **data)
        post = selectors.post_access(viewer=user, post_uuid=post.uuid, with_relations=True)
        return Response(payloads.post_payload(post, viewer=user), status=status.HTTP_201_CREATED)


class UserPostListApi(APIView):
    @extend_schema(parameters=_PAGE_PARAMS, responses=PostPageOut, operation_id="dating_user_posts")
    def get(self, request: Request, user_uuid: UUID) -> Response:
        """One person's posts (mine: every state, for me only)."""
        user = current_user(request)
        posts = selectors.posts_of_user(viewer=user, user_uuid=user_uuid)
        return _post_page(request, self, posts, user)


class CommentPagination(CursorPagination):
    page_size = 20
    ordering = "-id"


def _comment_page(request: Request, view: APIView, viewer: User, post: Any) -> Response:
    paginator = CommentPagination()
    page = (
        paginator.paginate_queryset(
            selectors.comments_of(viewer=viewer, post=post), request, view=view
        )
        or []
    )
    return paginator.get_paginated_response(
        [payloads.comment_payload(c, viewer=viewer, post=post) for c in page]
    )


class PostDetailApi(APIView):
    @extend_schema(
        parameters=_PAGE_PARAMS, responses=PostDetailOut, operation_id="dating_post_detail"
    )
    def get(self, request: Request, post_uuid: str) -> Response:
        """One post with its comments, newest first (``cursor`` pages the comments)."""
        user = current_user(request)
        post = selectors.post_access(viewer=user, post_uuid=post_uuid, with_relations=True)
        body = payloads.post_payload(post, viewer=user)
        body["comments"] = _comment_page(request, self, user, post).data
        return Response(body)

    @extend_schema(responses={204: None}, operation_id="dating_post_delete")
    def delete(self, request: Request, post_uuid: str) -> Response:
        """The author deletes the post (its files are deleted too)."""
        services.post_delete(user=current_user(request), post_uuid=post_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostLikeApi(_Scoped):
    throttle_scope = "dating_like"

    @extend_schema(request=None, responses=CountsOut, operation_id="dating_post_like")
    def post(self, request: Request, post_uuid: str) -> Response:
        """Like (idempotent)."""
        user = current_user(request)
        post = services.post_like(user=user, post_uuid=post_uuid)
        return Response(_counts(post, viewer=user, liked=True))

    @extend_schema(responses=CountsOut, operation_id="dating_post_unlike")
    def delete(self, request: Request, post_uuid: str) -> Response:
        """Unlike (idempotent)."""
        user = current_user(request)
        post = services.post_unlike(user=user, post_uuid=post_uuid)
        return Response(_counts(post, viewer=user, liked=False))


class PostListenedApi(APIView):
    @extend_schema(request=None, responses=CountsOut, operation_id="dating_post_listened")
    def post(self, request: Request, post_uuid: str) -> Response:
        """I played the post to the end (counted once per listener)."""
        user = current_user(request)
        post = services.post_listened(user=user, post_uuid=post_uuid)
        liked = selectors.post_liked_by(user=user, post=post)
        return Response(_counts(post, viewer=user, liked=liked))


class CommentListApi(_Scoped):
    throttle_scope = "dating_comment"

    class InputSerializer(_Input):
        text = serializers.CharField(max_length=services.COMMENT_MAX)

        class Meta:
            ref_name = "PostCommentCreate"

    @extend_schema(
        parameters=_PAGE_PARAMS, responses=CommentPageOut, operation_id="dating_comments"
    )
    def get(self, request: Request, post_uuid: str) -> Response:
        user = current_user(request)
        post = selectors.post_access(viewer=user, post_uuid=post_uuid)
        return _comment_page(request, self, user, post)

    @extend_schema(
        request=InputSerializer, responses={201: CommentOut}, operation_id="dating_comment_create"
    )
    def post(self, request: Request, post_uuid: str) -> Response:
        user = current_user(request)
        data = _valid(self.InputSerializer, request.data)
        comment = services.comment_create(user=user, post_uuid=post_uuid, text=data["text"])
        comment.author = user
        return Response(
            payloads.comment_payload(comment, viewer=user, post=comment.post),
            status=status.HTTP_201_CREATED,
        )


class CommentDetailApi(APIView):
    @extend_schema(responses={204: None}, operation_id="dating_comment_delete")
    def delete(self, request: Request, post_uuid: str, comment_uuid: str) -> Response:
        """Delete a comment: mine, or any on my post."""
        services.comment_delete(
            user=current_user(request), post_uuid=post_uuid, comment_uuid=comment_uuid
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportListApi(_Scoped):
    throttle_scope = "chat_report"  # one reporting limit for messages and posts

    class InputSerializer(_Input):
        reason = serializers.ChoiceField(choices=ReportReason.choices)
        details = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        post = serializers.UUIDField()
        comment = serializers.UUIDField(required=False)

        class Meta:
            ref_name = "VoicePostReportCreate"

    @extend_schema(
        parameters=_PAGE_PARAMS,
        responses=page_of(PostReportOut, "PostReportPage"),
        operation_id="dating_reports",
    )
    def get(self, request: Request) -> Response:
        """My reports of posts and comments, and their outcomes."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            reports.reports_of(user=current_user(request)), request, view=self
        )
        return paginator.get_paginated_response([payloads.report_payload(r) for r in page or []])

    @extend_schema(
        request=InputSerializer, responses={201: PostReportOut}, operation_id="dating_report_create"
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.InputSerializer, request.data)
        report = reports.post_report_create(
            reporter=current_user(request),
            reason=data["reason"],
            details=data.get("details", ""),
            post_uuid=data["post"],
            comment_uuid=data.get("comment"),
        )
        return Response(payloads.report_payload(report), status=status.HTTP_201_CREATED)


# --- Part 2: likes between people, passes, matches, discover --------------------------


class MatchOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    user = PublicProfileSerializer()
    conversation = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "DatingMatch"


class LikeOut(serializers.Serializer[Any]):
    liked = serializers.BooleanField()
    match = MatchOut(allow_null=True)

    class Meta:
        ref_name = "DatingProfileLike"


class LikedMeOut(serializers.Serializer[Any]):
    user = PublicProfileSerializer()
    liked_at = serializers.DateTimeField()

    class Meta:
        ref_name = "DatingLikedMe"


def _match_body(match: Any, viewer: User) -> dict[str, Any]:
    return {
        "id": str(match.uuid),
        "user": payloads.author_card(matching.other_of(match, viewer)),
        "conversation": str(match.conversation.uuid) if match.conversation else None,
        "created_at": iso(match.created_at),
    }


class ProfileLikeApi(APIView):
    @extend_schema(request=None, responses=LikeOut, operation_id="dating_profile_like")
    def post(self, request: Request, user_uuid: UUID) -> Response:
        """Like a person (private until mutual; a mutual like is a match and opens a
        conversation). 429 ``daily_like_limit`` past the day's likes."""
        user = current_user(request)
        match = matching.profile_like(user=user, user_uuid=user_uuid)
        if match is not None:
            match = matching.matches_of(user=user).filter(pk=match.pk).first()
        return Response(
            {"liked": True, "match": _match_body(match, user) if match is not None else None}
        )


class ProfilePassApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="dating_profile_pass")
    def post(self, request: Request, user_uuid: UUID) -> Response:
        """Pass: hidden from my discover and who-liked-me for a while."""
        matching.profile_pass(user=current_user(request), user_uuid=user_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PeoplePagination(CursorPagination):
    page_size = 20
    ordering = "-id"


class LikedMeListApi(APIView):
    @extend_schema(
        parameters=_PAGE_PARAMS,
        responses=page_of(LikedMeOut, "LikedMePage"),
        operation_id="dating_liked_me",
    )
    def get(self, request: Request) -> Response:
        """People who liked me and whom I haven't answered, newest first."""
        user = current_user(request)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(matching.likes_received(user=user), request, self)
        return paginator.get_paginated_response(
            [
                {"user": payloads.author_card(like.from_user), "liked_at": like.created_at}
                for like in page or []
            ]
        )


class MatchListApi(APIView):
    @extend_schema(
        parameters=_PAGE_PARAMS,
        responses=page_of(MatchOut, "MatchPage"),
        operation_id="dating_matches",
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(matching.matches_of(user=user), request, self)
        return paginator.get_paginated_response([_match_body(m, user) for m in page or []])


class MatchDetailApi(APIView):
    @extend_schema(responses={204: None}, operation_id="dating_unmatch")
    def delete(self, request: Request, match_uuid: str) -> Response:
        """Unmatch: the conversation closes for both; the other side is told the match
        ended, nothing more."""
        matching.match_end(user=current_user(request), match_uuid=match_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DiscoverApi(APIView):
    class FilterSerializer(serializers.Serializer[Any]):
        gender = serializers.ChoiceField(choices=Gender.values, required=False)
        age_min = serializers.IntegerField(min_value=18, max_value=150, required=False)
        age_max = serializers.IntegerField(min_value=18, max_value=150, required=False)

        class Meta:
            ref_name = "DatingDiscoverFilter"

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            low, high = attrs.get("age_min"), attrs.get("age_max")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError(
                    {"age_min": [gettext_lazy("age_min is above age_max.")]}, code="invalid"
                )
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("gender", str, enum=Gender.values),
            OpenApiParameter("age_min", int),
            OpenApiParameter("age_max", int),
            *_PAGE_PARAMS,
        ],
        responses=page_of(PublicProfileSerializer, "DatingDiscoverPage"),
        operation_id="dating_discover",
    )
    def get(self, request: Request) -> Response:
        """People to like or pass: discover's filters, without those I passed on (for
        ``MEETNOW_DATING_PASS_DAYS``), already liked or matched."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        users = matching.discover(viewer=current_user(request), **filters.validated_data)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(users, request, self)
        return paginator.get_paginated_response([payloads.author_card(u) for u in page or []])
