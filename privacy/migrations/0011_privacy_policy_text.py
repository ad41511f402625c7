"""Version 1.1 of the privacy policy: the project's own text (English and Simplified
Chinese), describing what this backend collects (issue 19, P9, P16).

Version 1.0 was a placeholder. 1.1 is not a material change (it describes the same
processing), so nobody is gated: the app shows it in ``updates`` of
``GET /api/v1/privacy/consents``. Its section 1 names every file of the export (one per
kind of personal data in the registry); ``tests/privacy/test_policy_text.py`` fails when
the registry gains a kind the current text does not name, and a new version must then be
published.
"""

from django.db import migrations
from django.utils import timezone

TITLE = "MeetNow privacy policy"
TITLE_ZH = "MeetNow 隐私政策"

BODY = 'MeetNow privacy policy, version 1.1\n\nThis policy says what the MeetNow service (voice dating, chat, voice and video calls, voice posts, customer service) collects about you, why, who receives it, how long it is kept and how you use your rights. Nothing is collected before you accept this policy and the user service agreement.\n\n1. What we collect\nYour export (Settings, "Export my data") holds one file per kind of data below; the list names each file.\n- profile.json: Your account and profile: number, nickname, gender, date of birth, bio, settings.\n- devices.json: Phones you signed in on: model, OS and app version, network type, IP.\n- sessions.json: Your signed-in sessions: when, from which IP and app.\n- security_events.json: Security log of your account: logins, new devices, ended sessions.\n- sms_deliveries.json: Codes we sent you by SMS or voice call (never the code itself).\n- blocks.json: People you blocked.\n- social_accounts.json: Third-party logins linked to your account and the public data they gave.\n- email_addresses.json: E-mail addresses on the account (MeetNow normally keeps none).\n- identity_verification.json: Your identity verification attempts: status, masked name and ID number.\n- files.json: Files you uploaded (photos, voice, video); the originals are in files/.\n- chat_settings.json: Your chat preferences: read receipts, push previews.\n- conversations.json: Conversations you are or were in: kind, title, your role, when you joined and left, and message requests to you (request_state: pending or declined).\n- group_invitations.json: Invitations to groups you received: the group, who invited you, when, and whether you declined.\n- messages.json: Messages you can see: all you sent, and those of others in your conversations (minus those you deleted for yourself). Senders are \'me\' or a user id.\n- message_versions.json: Earlier texts of messages you edited.\n- messages_hidden.json: Messages you deleted for yourself (ids).\n- reports.json: Reports you made about users or messages, and their status.\n- calls.json: Your voice and video calls: when, with whom (conversation), outcome, duration.\n- support_tickets.json: What you wrote to customer service, its pictures (ids), the answers.\n- dating_voice_matches.json: Your voice matches: when, the call, your like; who the other person was only if you both liked.\n- dating_profile_likes.json: People you liked.\n- dating_passes.json: People you passed on, and until when they stay hidden.\n- dating_matches.json: Your matches: who, the conversation, when it began and ended.\n- dating_posts.json: Your voice posts: caption, audience, counts, the ids of the clip and photos (the files are in files/).\n- dating_comments.json: What you wrote under voice posts.\n- dating_likes.json: The voice posts you liked.\n- dating_listens.json: The voice posts you played to the end (the last 90 days).\n- dating_reports.json: Your reports of voice posts and comments, and their outcomes.\n- consents.json: Every version of the privacy policy and agreement you accepted, with time and IP.\n- consent_withdrawals.json: Consents you withdrew, and when you accepted again.\n- privacy_requests.json: Your privacy requests (export, correction, deletion, consent) and their history.\nWe also collect, only while you use the service: the IP address and app of each request (for security and rate limits), the last time your device was connected (for delivery of messages), and anonymous counts (sign-ups and messages per day) that name nobody.\nWe never keep: the full text of a one-time code (only a keyed hash, for 5 minutes), your face images or full ID number during identity verification, the content or addresses of a call (calls are relayed, never recorded), or the e-mail address of a third-party login.\n\n2. Why\nTo run your account and sign you in by SMS or voice-call code (or a third-party login you choose), to deliver your messages, calls and posts to the people you choose, to keep accounts secure (security log, new-device notices, limits against abuse), to handle reports and customer service, and to meet legal duties. A nickname, gender, profile picture, bio and voice introduction are optional: without them every function still works.\n\n3. Who receives it\nOther users see only your public profile (nickname, gender, age, processed photo and voice introduction) and what you send them. Service providers receive only what their task needs; the current list, with the data each receives and its country, is in the app (GET /api/v1/privacy/processors). We sell nothing and publish nothing beyond this policy.\n\n4. How long\nEach kind of data has a retention period (security log 365 days with IPs cleared after 90, devices 180 days after last use, resolved reports and closed support tickets 365 days, call history 365 days, consent IPs shortened to their network after 90 days, sign-ups never completed 24 hours, the rest until you delete your account). When you delete your account, everything is erased after a 15-day cooling-off period; only what the law requires is kept, without your name.\n\n5. Your rights\nIn the app\'s settings you can export your data, correct your profile or ask for a correction, withdraw your consent, and delete your account. We answer requests within 15 working days.\n\n6. Minors\nMeetNow is for adults. You give your date of birth at sign-up; under the minimum age nothing about you is kept.\n\n7. Contact and changes\nWrite to customer service in the app. When this policy changes we announce it in the app; a material change must be accepted before you go on using the service.\n'

BODY_ZH = "MeetNow 隐私政策，版本 1.1\n\n本政策说明 MeetNow 服务（语音交友、聊天、语音和视频通话、语音动态、客服）收集你的哪些信息、为何收集、谁会收到、保存多久以及你如何行使权利。在你同意本政策和用户服务协议之前，我们不收集任何信息。\n\n一、我们收集的信息\n你的数据导出（设置中的“导出我的数据”）中，下列每类数据各有一个文件；列表标明了每个文件。\n- profile.json: 你的账号和个人资料：手机号码、昵称、性别、出生日期、个人简介、设置。\n- devices.json: 你登录过的手机：型号、系统和应用版本、网络类型、IP。\n- sessions.json: 你的登录会话：时间、IP 和应用。\n- security_events.json: 你账号的安全日志：登录、新设备、已结束的会话。\n- sms_deliveries.json: 我们通过短信或语音电话发给你的验证码记录（不含验证码本身）。\n- blocks.json: 你屏蔽的人。\n- social_accounts.json: 关联到你账号的第三方登录及其提供的公开数据。\n- email_addresses.json: 账号上的电子邮件地址（MeetNow 通常不保存）。\n- identity_verification.json: 你的实名认证记录：状态、脱敏的姓名和身份证号码。\n- files.json: 你上传的文件（照片、语音、视频）；原始文件在 files/ 中。\n- chat_settings.json: 你的聊天偏好：已读回执、推送预览。\n- conversations.json: 你参与或曾参与的会话：类型、标题、你的角色、加入和离开的时间，以及发给你的消息请求（request_state：待处理或已拒绝）。\n- group_invitations.json: 你收到的群组邀请：群组、邀请人、时间，以及你是否已拒绝。\n- messages.json: 你能看到的消息：你发送的全部消息，以及你所在会话中他人的消息（不含你为自己删除的消息）。发送者为 'me' 或用户 ID。\n- message_versions.json: 你编辑过的消息的早先文本。\n- messages_hidden.json: 你为自己删除的消息（ID）。\n- reports.json: 你对用户或消息的举报及其处理状态。\n- calls.json: 你的语音和视频通话：时间、对象（会话）、结果、时长。\n- support_tickets.json: 你写给客服的内容、附带的图片（ID）以及回复。\n- dating_voice_matches.json: 你的语音匹配：时间、通话、你的喜欢；只有双方都喜欢时才显示对方是谁。\n- dating_profile_likes.json: 你喜欢的人。\n- dating_passes.json: 你跳过的人，以及他们隐藏到何时。\n- dating_matches.json: 你的配对：对方、会话、开始和结束时间。\n- dating_posts.json: 你的语音动态：配文、可见范围、计数、录音和照片的编号（文件在 files/ 中）。\n- dating_comments.json: 你在语音动态下写的评论。\n- dating_likes.json: 你点赞的语音动态。\n- dating_listens.json: 你完整收听过的语音动态（最近 90 天）。\n- dating_reports.json: 你对语音动态和评论的举报及其处理结果。\n- consents.json: 你同意过的每个版本的隐私政策和协议，以及同意的时间和 IP。\n- consent_withdrawals.json: 你撤回的同意，以及重新同意的时间。\n- privacy_requests.json: 你的隐私请求（导出、更正、删除、同意）及其处理记录。\n仅在你使用服务期间，我们还会收集：每次请求的 IP 地址和应用（用于安全和频率限制）、你的设备最近一次连接的时间（用于投递消息），以及不指向任何人的匿名统计（每天的注册数和消息数）。\n我们从不保存：一次性验证码的明文（只保存带密钥的哈希值，5 分钟）、实名认证时的人脸图像或完整身份证号码、通话的内容或地址（通话只做中继，从不录音），以及第三方登录的电子邮件地址。\n\n二、收集目的\n用于运行你的账号，并通过短信或语音验证码（或你选择的第三方登录）让你登录；把你的消息、通话和动态送达你选择的人；保障账号安全（安全日志、新设备提醒、防滥用限制）；处理举报和客服；履行法定义务。昵称、性别、头像、个人简介和语音介绍都是可选的：不填写也能使用全部功能。\n\n三、谁会收到\n其他用户只能看到你的公开资料（昵称、性别、年龄、处理后的照片和语音介绍）以及你发给他们的内容。服务提供方只收到完成其任务所需的数据；当前名单、各自收到的数据及其所在国家见应用内（GET /api/v1/privacy/processors）。我们不出售任何数据，也不会在本政策之外公开任何数据。\n\n四、保存期限\n每类数据都有保存期限（安全日志 365 天，其中的 IP 在 90 天后清除；设备在最后使用 180 天后删除；已处理的举报和已关闭的客服工单 365 天；通话记录 365 天；同意记录中的 IP 在 90 天后缩短为所在网段；未完成的注册 24 小时；其余数据保存到你注销账号为止）。你注销账号后，经过 15 天的冷静期，所有数据都会被清除；只保留法律要求的内容，且不含你的姓名。\n\n五、你的权利\n你可以在应用的设置中导出数据、修改资料或申请更正、撤回同意以及注销账号。我们会在 15 个工作日内答复请求。\n\n六、未成年人\nMeetNow 仅面向成年人。注册时需填写出生日期；未达到最低年龄的，我们不保存任何有关信息。\n\n七、联系我们与政策变更\n请在应用内联系客服。本政策变更时我们会在应用内通知；重大变更需经你同意后才能继续使用服务。\n"


def publish(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    if PolicyDocument.objects.filter(kind="privacy_policy", version="1.1").exists():
        return
    PolicyDocument.objects.create(
        kind="privacy_policy",
        version="1.1",
        title=TITLE,
        title_zh_hans=TITLE_ZH,
        body=BODY,
        body_zh_hans=BODY_ZH,
        material_change=False,
        published_at=timezone.now(),
    )


def unpublish(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    Consent = apps.get_model("privacy", "Consent")
    for document in PolicyDocument.objects.filter(kind="privacy_policy", version="1.1"):
        if not Consent.objects.filter(document=document).exists():
            document.delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0010_processor_backends")]

    operations = [migrations.RunPython(publish, unpublish)]
