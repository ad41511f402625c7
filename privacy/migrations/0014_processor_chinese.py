"""The processors list in Simplified Chinese (issue 17, P9).

Each processor gets a Chinese name, purpose and data categories; the rows the
earlier migrations seeded get their translation here, matched on their English text
(a row staff have since reworded keeps no Chinese and is served in English until
staff add it in the admin, which asks for both texts).
"""

from django.db import migrations, models

OTP_PURPOSE = ("Sending one-time codes by SMS or voice call", "通过短信或语音电话发送一次性验证码")
OTP_DATA = ("Your mobile number and the code.", "你的手机号码和验证码。")
PUSH_DATA = (
    "A push token of your device; message previews only if you turned them on.",
    "你设备的推送令牌；只有你开启了消息预览时才包括预览。",
)
# (name, purpose, data categories): (English, Chinese) each.
SEEDED = [
    (("Twilio", "Twilio"), OTP_PURPOSE, OTP_DATA),
    (
        ("SMS gateway (the operator's HTTP SMS provider)", "短信网关（运营方的 HTTP 短信服务商）"),
        OTP_PURPOSE,
        OTP_DATA,
    ),
    (
        ("Firebase Cloud Messaging (Google)", "Firebase 云消息传递（Google）"),
        ("Push notifications on Android", "Android 上的推送通知"),
        PUSH_DATA,
    ),
    (
        ("Apple Push Notification service", "Apple 推送通知服务"),
        ("Push notifications on iOS", "iOS 上的推送通知"),
        PUSH_DATA,
    ),
    (
        ("Google Sign-In", "Google 登录"),
        ("Log in with Google (optional)", "使用 Google 账号登录（可选）"),
        (
            "Confirms your Google account; we read only public profile data (name, picture).",
            "确认你的 Google 账号；我们只读取公开资料（姓名、头像）。",
        ),
    ),
    (
        ("Sign in with Apple", "通过 Apple 登录"),
        ("Log in with Apple (optional)", "使用 Apple ID 登录（可选）"),
        ("Confirms your Apple ID.", "确认你的 Apple ID。"),
    ),
    (
        ("Facebook Login", "Facebook 登录"),
        ("Log in with Facebook (optional)", "使用 Facebook 账号登录（可选）"),
        (
            "Confirms your Facebook account; we read only public profile data.",
            "确认你的 Facebook 账号；我们只读取公开资料。",
        ),
    ),
    (
        ("WeChat Login", "微信登录"),
        ("Log in with WeChat (optional)", "使用微信登录（可选）"),
        (
            "Confirms your WeChat account; we read only nickname, avatar and gender.",
            "确认你的微信账号；我们只读取昵称、头像和性别。",
        ),
    ),
    (
        ("Object storage (S3-compatible)", "对象存储（兼容 S3）"),
        ("Storing photos, voice and video you upload", "存储你上传的照片、语音和视频"),
        ("The files you upload, encrypted in transit.", "你上传的文件，传输过程中加密。"),
    ),
    (
        (
            "TURN relay (the operator's or a third party's TURN server)",
            "TURN 中继（运营方或第三方的 TURN 服务器）",
        ),
        (
            "Relaying voice and video calls that can't connect directly",
            "中继无法直接连通的语音和视频通话",
        ),
        (
            "The call's encrypted audio and video, and your IP address.",
            "通话的加密音频和视频，以及你的 IP 地址。",
        ),
    ),
    (
        (
            "Identity verification provider (Tencent Cloud FaceID)",
            "实名认证服务商（腾讯云慧眼 FaceID）",
        ),
        ("Identity verification (optional)", "实名认证（可选）"),
        (
            "Your real name and resident ID number, and the face video or images of the "
            "liveness check taken in the app (MeetNow never receives those).",
            "你的真实姓名和居民身份证号码，以及在应用内活体检测时拍摄的人脸视频或图像"
            "（MeetNow 从不接收这些）。",
        ),
    ),
]


def translate(apps, schema_editor):
    Processor = apps.get_model("privacy", "Processor")
    for (name, name_zh), (purpose, purpose_zh), (data, data_zh) in SEEDED:
        Processor.objects.filter(
            name=name, purpose=purpose, data_categories=data, data_categories_zh_hans=""
        ).update(name_zh_hans=name_zh, purpose_zh_hans=purpose_zh, data_categories_zh_hans=data_zh)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0013_user_agreement_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="processor",
            name="name_zh_hans",
            field=models.CharField(default="", max_length=100, verbose_name="name (Chinese)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="processor",
            name="purpose_zh_hans",
            field=models.CharField(default="", max_length=200, verbose_name="purpose (Chinese)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="processor",
            name="data_categories_zh_hans",
            field=models.TextField(default="", verbose_name="data categories (Chinese)"),
            preserve_default=False,
        ),
        migrations.RunPython(translate, migrations.RunPython.noop),
    ]
