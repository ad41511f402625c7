// The client's own UI texts in English and Simplified Chinese. The language follows the
// browser (navigator.languages) until the person picks one; the choice is remembered and
// sent to the API as Accept-Language, so server messages come in the same language.
const LANG_KEY = 'meetnow.lang';
export const LANGS = ['en', 'zh-Hans'];

const en = {
  accept: 'Accept and continue', accept_call: 'Accept', accept_current: 'I have read and accept the current versions.',
  accept_docs: 'I accept the', add_to_group: 'Add to group', age: 'Age', and: ' and ',
  age_confirm: 'I confirm I am 18 or older, and the date of birth above is mine.',
  age_required: 'Please confirm your age.', already_in_call: 'You are already in a call.',
  as_others_see: 'Your public card, as others see it', attach: 'Attach a photo, video or audio file', back: 'Back',
  bio: 'About me', block: 'Block', block_confirm: 'Block {name}? They will no longer be able to message you.',
  blocked: 'Blocked.', browser_or_app: 'Browser or app',
  call_ringing: 'Calling…', call_ringing_peer: 'Ringing…', call_video: 'Video call', call_voice: 'Voice call',
  call_new: 'Connecting…', call_connecting: 'Connecting…', call_connected: 'Connected', call_disconnected: 'Reconnecting…',
  call_failed: 'Connection failed', call_closed: 'Call ended',
  call_outcome_completed: 'Call ended.', call_outcome_missed: 'No answer.', call_outcome_declined: 'Call declined.',
  call_outcome_cancelled: 'Call cancelled.', call_outcome_busy: 'Busy: they are in another call.', call_outcome_failed: 'The call failed.',
  call_outcome_ended: 'Call ended.',
  cancel: 'Cancel', cancel_request: 'Cancel request', choose_photo: 'Choose a photo', code: 'Code',
  code_flow_expired: 'This code has expired. Start again.', code_resent: 'A new code is on its way.',
  code_sent: 'We sent a 6-digit code to your phone. It is valid for 5 minutes.',
  confirm: 'Confirm', confirm_identity: 'Confirm it is you',
  consent_needed: 'Please accept the privacy policy and the user agreement.',
  consent_withdrawn_text: 'You withdrew your consent. You can still download your data or delete your account; to use MeetNow again, accept the current documents.',
  consent_withdrawn_title: 'Consent withdrawn',
  consent_accepted: 'Accepted', consent_withdrawn: 'Withdrawn', consent_restored: 'Accepted again',
  consents_title: 'Consents', continue: 'Continue', conversations: 'Conversations',
  correct_text: 'Something in your data that you cannot edit yourself is wrong? Tell us; staff correct it.',
  correct_title: 'Correct my data', create_group: 'Create group', date_of_birth: 'Date of birth', decline: 'Decline',
  delete_account: 'Delete my account',
  delete_confirm: 'Delete your account? You will be logged out everywhere at once.',
  delete_text: 'Your account is locked and hidden at once, then erased after a cooling-off period of 15 days. To cancel, just log in again before then. Messages you sent become "Deleted user" tombstones.',
  delete_title: 'Delete my account', deleted_user: 'Deleted user',
  deletion_scheduled_text: 'Your account is locked and will be erased on {date}. Changed your mind? Log in again before then to cancel the deletion.',
  deletion_scheduled_title: 'Account deletion scheduled', denied_because: 'Reason:', details_optional: 'Details (optional)',
  dev_sms_hint: 'Development: no SMS is sent. The code is printed in the terminal where `make run` runs (the Celery worker\'s output).',
  doc_privacy_policy: 'Privacy policy', doc_user_agreement: 'User agreement',
  documents_title: 'Policy documents', download_zip: 'Download ZIP', due: 'due', edit: 'Edit', edit_message: 'Edit message', edited: 'edited',
  end_others: 'Log out all other sessions', end_session: 'End session', ended_n: '{n} sessions ended.',
  export_text: 'A ZIP file with everything we hold about you: profile, messages, files, consents, sessions.',
  export_title: 'Download my data', gender: 'Gender', gender_female: 'Female', gender_male: 'Male', gender_other: 'Other',
  group: 'Group', group_title: 'Group name', hang_up: 'Hang up', have_account: 'Already have an account?',
  identity_text: 'We sent a one-time code to your phone. Enter it to confirm this request.',
  in_call: 'In call', incoming_video: '{name} is video calling you', incoming_voice: '{name} is calling you',
  is_typing: '{name} is typing…', just_you: 'Just you',
  kind_image: 'Photo', kind_video: 'Video', kind_voice: 'Voice message', kind_text: 'Message',
  kind_req_access: 'Data export', kind_req_rectification: 'Correction', kind_req_erasure: 'Account deletion', kind_req_consent_withdrawal: 'Consent withdrawal',
  last_seen: 'Last seen', leave_confirm: 'Leave this group?', leave_group: 'Leave group', log_in: 'Log in', log_out: 'Log out',
  logged_out: 'You are logged out.', material_change: 'new version', message: 'Message', messages: 'Messages',
  mic_denied: 'The browser did not allow the microphone or camera.', more: 'More', msg_recalled: 'Message recalled',
  msg_removed: 'Removed by a moderator', msg_system: 'Group updated', mute: 'Mute', muted: 'muted',
  nav_chat: 'Chats', nav_privacy: 'Privacy', nav_profile: 'Profile', new_conversation: 'New chat', new_group: 'Or start a group with the people you ticked',
  nickname: 'Nickname', no_account: 'New to MeetNow?', no_conversations: 'No conversations yet. Start one with "New chat".',
  no_name: '(no name)', no_recorder: 'This browser cannot record audio.', no_requests: 'No requests yet.',
  nobody_yet: 'Nobody to show yet.', not_found: 'Not found.', not_said: 'Prefer not to say',
  offline_note: 'Offline: reconnecting… Messages you missed will arrive when the connection is back.',
  older_messages: 'Load older messages', optional_fields: 'Every profile field is optional.',
  or_continue_with: 'Or continue with', or_upload_audio: 'Or upload an audio file', phone: 'Phone number',
  phone_hint: 'Any format; numbers without +country are read as {region}.', photo: 'Photo', photo_of: 'Photo of {name}',
  photo_saved: 'Photo saved.', privacy_centre: 'Privacy centre', processing: 'Processing…',
  processors_title: 'Processors and SDKs we share data with', profile: 'Profile', progress: 'Progress', public_card: 'Public card',
  read: 'Read', read_by_n: 'Read by {n}', reason: 'Reason',
  reason_spam: 'Spam or scam', reason_harassment: 'Harassment or hate', reason_sexual: 'Unwanted sexual content', reason_fake: 'Fake profile',
  reason_underage: 'Appears to be under age', reason_violence: 'Violence or threats', reason_other: 'Other',
  recall: 'Recall', recall_confirm: 'Recall this message for everyone?', received: 'Received',
  reconsent_text: 'We published a new version of our documents. Please read and accept them to keep using MeetNow.',
  reconsent_title: 'Our documents changed', record_intro: 'Record a voice intro (press again to stop)', record_voice: 'Record a voice message (press again to stop)', record_video: 'Record a video message (press again to stop)',
  recording: 'Recording… press the same button again to stop.', remove_photo: 'Remove photo', remove_voice: 'Remove voice intro',
  report: 'Report', report_message: 'Report this message', report_sent: 'Thank you. A moderator will look at it.', report_user: 'Report this person',
  request_export: 'Request my data', request_sent: 'Request sent.', requests_title: 'My requests', resend_code: 'Send a new code', retry: 'Retry',
  review_and_accept: 'Review and accept', save: 'Save', saved: 'Saved.',
  sec_login_succeeded: 'Logged in', sec_login_failed: 'Failed login', sec_new_device: 'New device', sec_code_abuse: 'Too many code requests',
  sec_session_ended: 'Session ended', sec_account_banned: 'Account banned', sec_login_refused_banned: 'Login refused', sec_provider_unlinked: 'Account unlinked',
  security_title: 'Security events', send: 'Send', send_code: 'Send code', send_failed: 'Not sent.', send_request: 'Send request',
  sending: 'sending…', sent: 'Sent', session_ended: 'Your session ended. Please log in again.', session_ended_ok: 'Session ended.',
  sessions_title: 'Devices and sessions', sign_up: 'Sign up', someone: 'Someone',
  status_identity_unverified: 'Waiting for your code', status_pending: 'Pending review', status_approved: 'Approved', status_denied: 'Denied',
  status_scheduled: 'Scheduled', status_in_processing: 'Preparing', status_complete: 'Ready', status_error: 'Error (will be retried)',
  status_canceled: 'Canceled', status_duplicate: 'Duplicate',
  sys_group_created: '{actor} created the group', sys_members_added: '{actor} added {users}', sys_member_removed: '{actor} removed {users}',
  sys_member_left: '{actor} left', sys_other: 'Group updated',
  thanks_consent: 'Thank you.', this_session: 'This browser', too_short: 'Too short: hold on a little longer.',
  type_message: 'Write a message', unmute: 'Unmute', unread_n: '{n} unread', unsupported_file: 'This kind of file cannot be sent.',
  uploading: 'Uploading…', version_published: 'Version {version}, published {date}', voice_intro: 'Voice intro', voice_saved: 'Voice intro saved.',
  welcome: 'Welcome to MeetNow!', what_to_correct: 'What is wrong, and what should it be?', withdraw: 'Withdraw consent',
  withdraw_confirm: 'Withdraw your consent? You will not be able to use MeetNow until you accept again; export and deletion stay available.',
  withdraw_text: 'Withdrawing is one click. Without consent to the privacy policy and the user agreement the account cannot be used, but you can still export or delete it.',
  your_id: 'Your id (others can start a chat with it):',
  chat_settings: 'Chat settings', share_read_receipts: 'Let others see when I have read their messages',
  push_previews: 'Show message text in push notifications', blocked_people: 'People I blocked',
  unblock: 'Unblock', unblocked: 'Unblocked.', nobody_blocked: 'You have not blocked anyone.',
  social_failed_title: 'Login did not work', social_failed: 'The login with the provider did not complete. Try again, or use your phone number.',
  social_cancelled: 'You cancelled the login at the provider.',
  social_signup_text: 'Welcome! One more step to create your account: your date of birth and consent to our documents.',
  // Message requests and group invitations (issue 15).
  message_requests: 'Message requests', requests_hint: 'People you have not matched with. They cannot see whether you read their messages until you accept.',
  request_pending: 'Request pending', request_pending_note: 'Message request sent: they can read it and reply once they accept. Until then you can send at most 3 messages.',
  request_from: '{name} wants to send you messages. Accept to reply, or decline: they will not be told.',
  accept_request: 'Accept', decline_request_confirm: 'Decline the request from {name}? They will not be able to message you here again.',
  request_accepted: 'Request accepted.', request_declined: 'Request declined.',
  report_and_block: 'Report and block', reported_and_blocked: 'Reported and blocked. A moderator will look at it.',
  verified: 'Verified', see_profile: 'See profile', new_request: 'New message request.',
  group_invitations: 'Group invitations', invited_by: 'invited by {name}', join_group: 'Join',
  new_invitation: 'You were invited to a group.',
};

const zh = {
  accept: '接受并继续', accept_call: '接听', accept_current: '我已阅读并接受当前版本。',
  accept_docs: '我同意', add_to_group: '加入群聊', age: '年龄', and: '和',
  age_confirm: '我确认已年满 18 周岁，且上面填写的是我本人的出生日期。',
  age_required: '请确认你的年龄。', already_in_call: '你正在通话中。',
  as_others_see: '你的公开名片（他人看到的样子）', attach: '添加照片、视频或音频文件', back: '返回',
  bio: '关于我', block: '拉黑', block_confirm: '确定拉黑 {name}？对方将无法再给你发消息。',
  blocked: '已拉黑。', browser_or_app: '浏览器或应用',
  call_ringing: '正在呼叫…', call_ringing_peer: '对方响铃中…', call_video: '视频通话', call_voice: '语音通话',
  call_new: '正在连接…', call_connecting: '正在连接…', call_connected: '已接通', call_disconnected: '正在重新连接…',
  call_failed: '连接失败', call_closed: '通话已结束',
  call_outcome_completed: '通话已结束。', call_outcome_missed: '无人接听。', call_outcome_declined: '对方已拒绝。',
  call_outcome_cancelled: '通话已取消。', call_outcome_busy: '对方忙线中。', call_outcome_failed: '通话失败。',
  call_outcome_ended: '通话已结束。',
  cancel: '取消', cancel_request: '撤回申请', choose_photo: '选择照片', code: '验证码',
  code_flow_expired: '验证码已过期，请重新开始。', code_resent: '新的验证码已发送。',
  code_sent: '我们已向你的手机发送 6 位验证码，5 分钟内有效。',
  confirm: '确认', confirm_identity: '验证身份',
  consent_needed: '请同意隐私政策和用户协议。',
  consent_withdrawn_text: '你已撤回同意。你仍可以下载个人数据或注销账号；如需继续使用 MeetNow，请接受当前文件。',
  consent_withdrawn_title: '已撤回同意',
  consent_accepted: '已同意', consent_withdrawn: '已撤回', consent_restored: '重新同意',
  consents_title: '同意记录', continue: '继续', conversations: '会话',
  correct_text: '你的数据中有无法自行修改的错误？告诉我们，工作人员会更正。',
  correct_title: '更正我的数据', create_group: '创建群聊', date_of_birth: '出生日期', decline: '拒绝',
  delete_account: '注销账号',
  delete_confirm: '确定注销账号？你将立即在所有设备上退出登录。',
  delete_text: '账号会立即被锁定并隐藏，15 天冷静期后彻底删除。在此之前重新登录即可撤销注销。你发送的消息将显示为“已注销用户”。',
  delete_title: '注销账号', deleted_user: '已注销用户',
  deletion_scheduled_text: '你的账号已锁定，将于 {date} 删除。改变主意了？在此之前重新登录即可撤销注销。',
  deletion_scheduled_title: '已申请注销账号', denied_because: '原因：', details_optional: '详情（可选）',
  dev_sms_hint: '开发环境：不会真的发送短信。验证码打印在运行 `make run` 的终端里（Celery worker 的输出）。',
  doc_privacy_policy: '隐私政策', doc_user_agreement: '用户协议',
  documents_title: '政策文件', download_zip: '下载 ZIP', due: '截止', edit: '编辑', edit_message: '编辑消息', edited: '已编辑',
  end_others: '退出其他所有会话', end_session: '结束会话', ended_n: '已结束 {n} 个会话。',
  export_text: '一个 ZIP 文件，包含我们保存的你的全部数据：资料、消息、文件、同意记录、会话。',
  export_title: '下载我的数据', gender: '性别', gender_female: '女', gender_male: '男', gender_other: '其他',
  group: '群聊', group_title: '群名称', hang_up: '挂断', have_account: '已有账号？',
  identity_text: '我们已向你的手机发送一次性验证码，输入后即可确认此申请。',
  in_call: '通话中', incoming_video: '{name} 邀请你视频通话', incoming_voice: '{name} 来电',
  is_typing: '{name} 正在输入…', just_you: '只有你',
  kind_image: '[图片]', kind_video: '[视频]', kind_voice: '[语音]', kind_text: '消息',
  kind_req_access: '数据导出', kind_req_rectification: '数据更正', kind_req_erasure: '注销账号', kind_req_consent_withdrawal: '撤回同意',
  last_seen: '最近活跃', leave_confirm: '确定退出该群聊？', leave_group: '退出群聊', log_in: '登录', log_out: '退出登录',
  logged_out: '你已退出登录。', material_change: '新版本', message: '发消息', messages: '消息',
  mic_denied: '浏览器未允许使用麦克风或摄像头。', more: '更多', msg_recalled: '消息已撤回',
  msg_removed: '已被管理员删除', msg_system: '群聊已更新', mute: '免打扰', muted: '免打扰',
  nav_chat: '聊天', nav_privacy: '隐私', nav_profile: '我的', new_conversation: '发起聊天', new_group: '或与勾选的人创建群聊',
  nickname: '昵称', no_account: '第一次使用 MeetNow？', no_conversations: '还没有会话。点击“发起聊天”开始。',
  no_name: '（未命名）', no_recorder: '此浏览器无法录音。', no_requests: '暂无申请。',
  nobody_yet: '暂时没有可显示的人。', not_found: '未找到。', not_said: '不愿透露',
  offline_note: '网络已断开，正在重连……恢复连接后会补收错过的消息。',
  older_messages: '加载更早的消息', optional_fields: '所有资料项均为选填。',
  or_continue_with: '或使用以下方式继续', or_upload_audio: '或上传音频文件', phone: '手机号',
  phone_hint: '格式不限；未带 +国家码 的号码按 {region} 解析。', photo: '照片', photo_of: '{name} 的照片',
  photo_saved: '照片已保存。', privacy_centre: '隐私中心', processing: '处理中…',
  processors_title: '与我们共享数据的处理者和 SDK', profile: '个人资料', progress: '进度', public_card: '公开名片',
  read: '已读', read_by_n: '{n} 人已读', reason: '原因',
  reason_spam: '垃圾信息或诈骗', reason_harassment: '骚扰或仇恨', reason_sexual: '不受欢迎的色情内容', reason_fake: '虚假资料',
  reason_underage: '疑似未成年', reason_violence: '暴力或威胁', reason_other: '其他',
  recall: '撤回', recall_confirm: '为所有人撤回这条消息？', received: '提交于',
  reconsent_text: '我们发布了新版文件，请阅读并接受后继续使用 MeetNow。',
  reconsent_title: '我们的文件已更新', record_intro: '录制语音介绍（再按一次停止）', record_voice: '录制语音消息（再按一次停止）', record_video: '录制视频消息（再按一次停止）',
  recording: '正在录制……再按一次同一按钮停止。', remove_photo: '删除照片', remove_voice: '删除语音介绍',
  report: '举报', report_message: '举报这条消息', report_sent: '谢谢，管理员会尽快处理。', report_user: '举报此人',
  request_export: '申请导出我的数据', request_sent: '申请已提交。', requests_title: '我的申请', resend_code: '重新发送验证码', retry: '重试',
  review_and_accept: '查看并接受', save: '保存', saved: '已保存。',
  sec_login_succeeded: '登录成功', sec_login_failed: '登录失败', sec_new_device: '新设备', sec_code_abuse: '验证码请求过多',
  sec_session_ended: '会话已结束', sec_account_banned: '账号被封禁', sec_login_refused_banned: '登录被拒绝', sec_provider_unlinked: '已解除第三方账号绑定',
  security_title: '安全记录', send: '发送', send_code: '获取验证码', send_failed: '发送失败。', send_request: '提交申请',
  sending: '发送中…', sent: '已发送', session_ended: '会话已结束，请重新登录。', session_ended_ok: '会话已结束。',
  sessions_title: '设备与会话', sign_up: '注册', someone: '某人',
  status_identity_unverified: '等待验证码', status_pending: '待审核', status_approved: '已批准', status_denied: '已拒绝',
  status_scheduled: '已安排', status_in_processing: '处理中', status_complete: '已完成', status_error: '出错（将重试）',
  status_canceled: '已撤回', status_duplicate: '重复申请',
  sys_group_created: '{actor} 创建了群聊', sys_members_added: '{actor} 邀请了 {users}', sys_member_removed: '{actor} 移除了 {users}',
  sys_member_left: '{actor} 退出了群聊', sys_other: '群聊已更新',
  thanks_consent: '谢谢。', this_session: '当前浏览器', too_short: '时间太短，请多录一会儿。',
  type_message: '输入消息', unmute: '取消免打扰', unread_n: '{n} 条未读', unsupported_file: '无法发送此类文件。',
  uploading: '上传中…', version_published: '版本 {version}，发布于 {date}', voice_intro: '语音介绍', voice_saved: '语音介绍已保存。',
  welcome: '欢迎来到 MeetNow！', what_to_correct: '哪里有误？应改为什么？', withdraw: '撤回同意',
  withdraw_confirm: '确定撤回同意？在重新同意之前你将无法使用 MeetNow；导出和注销仍然可用。',
  withdraw_text: '撤回只需一步。未同意隐私政策和用户协议时账号无法使用，但你仍可导出或注销账号。',
  your_id: '你的 ID（他人可以用它和你聊天）：',
  chat_settings: '聊天设置', share_read_receipts: '让对方看到我已读了他们的消息',
  push_previews: '在推送通知中显示消息内容', blocked_people: '我拉黑的人',
  unblock: '取消拉黑', unblocked: '已取消拉黑。', nobody_blocked: '你还没有拉黑任何人。',
  social_failed_title: '登录未成功', social_failed: '第三方登录未完成。请重试，或使用手机号登录。',
  social_cancelled: '你在第三方页面取消了登录。',
  social_signup_text: '欢迎！再完成一步即可创建账号：填写出生日期并同意我们的文件。',
  // 消息请求与群邀请
  message_requests: '消息请求', requests_hint: '尚未与你匹配的人。在你接受之前，对方看不到你是否已读。',
  request_pending: '请求待接受', request_pending_note: '已发送消息请求：对方接受后才能回复你。在此之前你最多可以发送 3 条消息。',
  request_from: '{name} 想给你发消息。接受后即可回复；拒绝时对方不会收到通知。',
  accept_request: '接受', decline_request_confirm: '拒绝 {name} 的消息请求？对方将无法再在这里给你发消息。',
  request_accepted: '已接受请求。', request_declined: '已拒绝请求。',
  report_and_block: '举报并拉黑', reported_and_blocked: '已举报并拉黑，管理员会进行处理。',
  verified: '已认证', see_profile: '查看资料', new_request: '收到新的消息请求。',
  group_invitations: '群聊邀请', invited_by: '由 {name} 邀请', join_group: '加入',
  new_invitation: '你收到了一个群聊邀请。',
};

export const TABLES = { en, 'zh-Hans': zh };

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-Hans';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let lang = null;
export function currentLang() {
  if (!lang) lang = localStorage.getItem(LANG_KEY) || fromBrowser();
  return lang;
}

export function setLang(value) {
  lang = LANGS.includes(value) ? value : 'en';
  localStorage.setItem(LANG_KEY, lang);
  applyLang();
}

export function applyLang() {
  document.documentElement.lang = currentLang();
  const select = document.getElementById('lang');
  if (select) select.value = currentLang();
  const label = document.getElementById('lang-label');
  if (label) label.textContent = currentLang() === 'zh-Hans' ? '语言' : 'Language';
}

export function t(key, params = {}) {
  const table = TABLES[currentLang()] || en;
  let text = table[key] ?? en[key];
  if (text === undefined) text = key.replace(/^[a-z]+_/, '').replace(/_/g, ' ');
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ''));
}
