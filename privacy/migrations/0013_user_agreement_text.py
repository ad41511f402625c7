"""Version 1.1 of the user service agreement: the project's own text (English and
Simplified Chinese), describing the service MeetNow really runs (issue 19).

Version 1.0 was a placeholder. As with the privacy policy's 1.1 (migration 0011), 1.1 is
not a material change: it writes down the service, the rules and the procedures that
already apply (the age rule at sign-up, reports and bans, the rights session of a banned
account, deletion with its cooling-off), and takes no right away from anyone who accepted
1.0. Nobody is gated: the app shows it in ``updates`` of ``GET /api/v1/privacy/consents``.
A later version that adds duties or removes rights is material (its section 10).
``tests/privacy/test_policy_text.py`` checks that the current agreement is this text.
"""

from django.db import migrations
from django.utils import timezone

TITLE = "MeetNow user service agreement"
TITLE_ZH = "MeetNow 用户服务协议"

BODY = "MeetNow user service agreement, version 1.1\n\nThis agreement is between you and the operator of MeetNow. It sets the rules for using the MeetNow app and service. The privacy policy, which you accept together with this agreement, says what we collect and how you use your rights over your data.\n\n1. The service\nMeetNow is an instant messaging and voice dating service. With an account you can: chat one to one and in groups (text, photos, voice and video messages); make voice and video calls; publish voice posts and comment on and like those of others; like profiles and, when two people like each other, become a match with a conversation of your own; send a message request to someone you have not matched with, which they accept or decline; and use voice match: a short anonymous voice call with another person looking at the same time; you see who it was only if you both like each other afterwards. Customer service is in the app.\nThe service is free of charge. We may change, add or remove functions; when a change affects your rights under this agreement, we publish a new version (section 10).\n\n2. Your account\nYou sign up with a mobile number that receives a one-time code (or a third-party login you choose), your date of birth, and your acceptance of this agreement and the privacy policy. One account per person; it is yours alone: do not share, sell or lend it, and keep your phone and codes to yourself. A nickname, gender, photo, bio and voice introduction are optional. If you lose access to your number, contact customer service.\n\n3. Minors\nMeetNow is for adults only. You must be at least 18 years old. We refuse a sign-up under that age, and we close an account when we learn its holder is under age; nothing about them is kept.\n\n4. Rules of conduct\nWhen you use MeetNow you must not:\n- harass, threaten, insult, stalk or bully anyone, or keep contacting someone who declined your message request, blocked you or did not like you back;\n- send or publish sexual content involving minors (we report it to the authorities, as the law requires), sexually explicit content, violence, gore, or content that incites hatred or discrimination;\n- deceive others: impersonate a person, use someone else's photos or voice, lie about your age, or run romance, investment or other scams;\n- advertise, sell, solicit money or gifts, recruit for prostitution or gambling, or send spam or links to other services in bulk;\n- record, publish or forward other people's messages, voice, calls or personal data without their consent;\n- publish content that is illegal under the laws of the People's Republic of China or infringes the rights of others (copyright, portrait, reputation, privacy);\n- use bots, scripts or automated means, scrape the service, create accounts in bulk, or interfere with or attack the service or its security.\nYou are responsible for what you send and publish. You keep the rights to your content; you allow us to store it, process it (for example, to convert photos and audio) and show it to the people you chose, only to run the service.\n\n5. Reports and moderation\nReport a user, a message, a voice post or a comment in the app; block anyone at any time. We review reports and may remove content, limit functions or ban an account that breaks these rules or the law. We do not read your private conversations except to handle a report about them or when the law requires it.\n\n6. Bans and appeals\nA banned account can no longer use the service, but its holder can still sign in to export their data, follow their privacy requests and contact customer service. If you think a ban or another decision about your account or content is wrong, appeal to customer service: say why, and we review the decision again and answer you.\n\n7. Ending the agreement and deleting your account\nYou may end this agreement at any time by deleting your account in the app's settings. After a 15-day cooling-off period, during which you can change your mind by signing in, your account and data are erased as the privacy policy describes; only what the law requires is kept, without your name. We may end the agreement by banning your account (section 6) or when the service closes, which we announce in the app in advance; you can export your data until then. Withdrawing your consent to the privacy policy stops the use of the service until you accept again.\n\n8. Liability\nWe run the service with reasonable care but cannot promise it is always available or free of errors. We are not responsible for what other users say or do; report them. Nothing in this agreement limits liability that the law does not allow to be limited, or your rights as a consumer.\n\n9. Governing law and disputes\nThis agreement is governed by the laws of the People's Republic of China (excluding those of Hong Kong, Macao and Taiwan). Please contact customer service first; if a dispute cannot be settled by negotiation, it goes to the people's court with jurisdiction where the operator is registered.\n\n10. Changes\nWhen this agreement changes we announce the new version in the app. A material change (new duties for you, or fewer rights) must be accepted before you go on using the service; if you do not accept it, you can export your data and delete your account.\n\n11. Contact\nWrite to customer service in the app.\n"

BODY_ZH = "MeetNow 用户服务协议，版本 1.1\n\n本协议是你与 MeetNow 运营方之间的协议，规定了使用 MeetNow 应用和服务的规则。你在同意本协议的同时同意的隐私政策，说明了我们收集哪些信息以及你如何对自己的数据行使权利。\n\n一、服务内容\nMeetNow 是即时通讯和语音交友服务。注册账号后，你可以：单聊和群聊（文字、图片、语音和视频消息）；进行语音和视频通话；发布语音动态，评论和点赞他人的动态；喜欢他人的资料，双方互相喜欢即成为配对，并拥有专属会话；向尚未配对的人发送消息请求，由对方接受或拒绝；使用语音匹配：与同一时间在找人的另一位用户进行一次简短的匿名语音通话，之后只有双方都喜欢对方，才能看到对方是谁。应用内提供客服。\n本服务免费。我们可能更改、增加或停止某些功能；如变更影响你在本协议下的权利，我们会发布新版本（第十条）。\n\n二、你的账号\n注册时需要一个能接收一次性验证码的手机号码（或你选择的第三方登录）、你的出生日期，以及你对本协议和隐私政策的同意。每人限一个账号，账号仅供你本人使用：不得共享、出售或出借，请妥善保管你的手机和验证码。昵称、性别、头像、个人简介和语音介绍均为可选。如果你无法再使用注册的手机号码，请联系客服。\n\n三、未成年人\nMeetNow 仅面向成年人。你必须年满 18 周岁。我们拒绝未满该年龄的注册；得知账号持有人未成年时，我们会关闭该账号，且不保存其任何信息。\n\n四、行为规范\n使用 MeetNow 时，你不得：\n- 骚扰、威胁、辱骂、跟踪或欺凌他人，或在对方拒绝你的消息请求、屏蔽你或未回应你的喜欢后继续联系对方；\n- 发送或发布涉及未成年人的色情内容（我们会依法向有关部门报告）、色情露骨内容、暴力血腥内容，或煽动仇恨、歧视的内容；\n- 欺骗他人：冒充他人，使用他人的照片或声音，谎报年龄，或进行婚恋、投资等诈骗；\n- 发布广告、销售商品、索要钱财或礼物，招揽卖淫或赌博，或批量发送垃圾信息、其他服务的链接；\n- 未经他人同意，录制、公开或转发他人的消息、声音、通话或个人信息；\n- 发布违反中华人民共和国法律或侵犯他人权利（著作权、肖像权、名誉权、隐私权）的内容；\n- 使用机器人、脚本或其他自动化手段，抓取服务内容，批量注册账号，或干扰、攻击本服务及其安全。\n你对自己发送和发布的内容负责。你保留对自己内容的权利；你允许我们存储、处理（例如转换图片和音频格式）你的内容，并向你选择的人展示，仅用于提供本服务。\n\n五、举报与内容管理\n你可以在应用内举报用户、消息、语音动态或评论，也可以随时屏蔽任何人。我们会审核举报，对违反本规范或法律的行为，可以删除内容、限制功能或封禁账号。除处理针对某段私人会话的举报或法律要求外，我们不查看你的私人会话。\n\n六、封禁与申诉\n被封禁的账号不能再使用本服务，但账号持有人仍可登录以导出数据、查看隐私请求的进展并联系客服。如果你认为封禁或其他针对你的账号或内容的决定有误，请向客服申诉并说明理由，我们会重新审核该决定并答复你。\n\n七、协议终止与注销账号\n你可以随时在应用设置中注销账号以终止本协议。注销后有 15 天冷静期，期间重新登录即可撤销注销；冷静期满后，你的账号和数据将按照隐私政策的说明被清除，只保留法律要求的内容，且不含你的姓名。我们可以通过封禁你的账号（第六条）终止本协议；本服务停止运营时，我们会提前在应用内通知，在此之前你可以导出你的数据。撤回对隐私政策的同意后，在你重新同意之前将无法使用本服务。\n\n八、责任\n我们以合理的注意运营本服务，但不能保证服务始终可用或没有错误。我们不对其他用户的言行负责；如有问题请举报。本协议不限制法律不允许限制的责任，也不影响你作为消费者的权利。\n\n九、适用法律与争议解决\n本协议适用中华人民共和国法律（不包括香港、澳门和台湾地区的法律）。如有争议，请先联系客服；协商不成的，提交运营方注册地有管辖权的人民法院解决。\n\n十、协议变更\n本协议变更时，我们会在应用内公布新版本。重大变更（为你增加新的义务或减少你的权利）须经你同意后才能继续使用本服务；如你不同意，可以导出数据并注销账号。\n\n十一、联系我们\n请在应用内联系客服。\n"


def publish(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    if PolicyDocument.objects.filter(kind="user_agreement", version="1.1").exists():
        return
    PolicyDocument.objects.create(
        kind="user_agreement",
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
    for document in PolicyDocument.objects.filter(kind="user_agreement", version="1.1"):
        if not Consent.objects.filter(document=document).exists():
            document.delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0012_support_ticket_due")]

    operations = [migrations.RunPython(publish, unpublish)]
