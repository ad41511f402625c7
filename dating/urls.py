"""dating API routes (under /api/v1/dating/: meetnow/urls.py adds the prefix)."""

from django.urls import URLPattern, URLResolver, path

from dating import apis, voicematch_apis

P = "posts/<str:post_uuid>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("posts", apis.PostListApi.as_view(), name="dating-posts"),
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
        "users/<uuid:user_uuid>/posts",
        apis.UserPostListApi.as_view(),
        name="dating-user-posts",
    ),
    path("users/<uuid:user_uuid>/like", apis.ProfileLikeApi.as_view(), name="dating-like"),
    path("users/<uuid:user_uuid>/pass", apis.ProfilePassApi.as_view(), name="dating-pass"),
    path("likes/received", apis.LikedMeListApi.as_view(), name="dating-liked-me"),
    path("matches", apis.MatchListApi.as_view(), name="dating-matches"),
    path("matches/<str:match_uuid>", apis.MatchDetailApi.as_view(), name="dating-match"),
    path("discover", apis.DiscoverApi.as_view(), name="dating-discover"),
    path("reports", apis.ReportListApi.as_view(), name="dating-reports"),
    path(
        "voice-match",
        voicematch_apis.VoiceMatchQueueApi.as_view(),
        name="dating-voice-match",
    ),
    path(
        "voice-match/<str:session_uuid>",
        voicematch_apis.VoiceMatchSessionApi.as_view(),
        name="dating-voice-match-session",
    ),
    path(
        "voice-match/<str:session_uuid>/like",
        voicematch_apis.VoiceMatchLikeApi.as_view(),
        name="dating-voice-match-like",
    ),
]
