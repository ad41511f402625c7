"""dating API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from dating import apis, voicematch_apis

P = "dating/posts/<str:post_uuid>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("dating/posts", apis.PostListApi.as_view(), name="dating-posts"),
    path(P, apis.PostDetailApi.as_view(), name="dating-post"),
    path(f"{P}/like", apis.PostLikeApi.as_view(), name="dating-post-like"),
    path(f"{P}/listened", apis.PostListenedApi.as_view(), name="dating-post-listened"),
    path(f"{P}/comments", apis.CommentListApi.as_view(), name="dating-comments"),
    path(
        f"{P}/comments/<str:comment_uuid>",
        apis.CommentDetailApi.as_view(),
        name="dating-comment",
    ),
    path(
        "dating/users/<uuid:user_uuid>/posts",
        apis.UserPostListApi.as_view(),
        name="dating-user-posts",
    ),
    path("dating/users/<uuid:user_uuid>/like", apis.ProfileLikeApi.as_view(), name="dating-like"),
    path("dating/users/<uuid:user_uuid>/pass", apis.ProfilePassApi.as_view(), name="dating-pass"),
    path("dating/likes/received", apis.LikedMeListApi.as_view(), name="dating-liked-me"),
    path("dating/matches", apis.MatchListApi.as_view(), name="dating-matches"),
    path("dating/matches/<str:match_uuid>", apis.MatchDetailApi.as_view(), name="dating-match"),
    path("dating/discover", apis.DiscoverApi.as_view(), name="dating-discover"),
    path("dating/reports", apis.ReportListApi.as_view(), name="dating-reports"),
    path(
        "dating/voice-match",
        voicematch_apis.VoiceMatchQueueApi.as_view(),
        name="dating-voice-match",
    ),
    path(
        "dating/voice-match/<str:session_uuid>",
        voicematch_apis.VoiceMatchSessionApi.as_view(),
        name="dating-voice-match-session",
    ),
    path(
        "dating/voice-match/<str:session_uuid>/like",
        voicematch_apis.VoiceMatchLikeApi.as_view(),
        name="dating-voice-match-like",
    ),
]
