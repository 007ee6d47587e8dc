"""Issue 14: the closed loop of a supervision case talks — every step reaches the right inbox at once, and
the queued copies go out once over e-mail, the DingTalk and WeCom robots and 浙政钉.

The app is configured with all four channels pointed at servers on loopback that check what they receive
(the SMTP sink of tests/notifications/conftest.py, the signature-checking robot and 浙政钉 servers of
tests/notifications/test_channels.py). The queued copies go out at 2026-11-22 09:00 Hangzhou, the instant
those servers check signatures against (``AT``); the demo data's own clock stands at 2025-11-22.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.auth.models import User
from tracker.db import unit_of_work
from tracker.notifications.channels import Channels
from tracker.notifications.delivery import biz_msg_id, deliver_pending
from tracker.notifications.models import Channel, DeliveryState, Notification, NotificationDelivery
from tracker.supervision.models import SupervisionCase

from ..notifications import conftest as notification_fixtures
from ..notifications import test_channels as channel_tests
from ..notifications.conftest import SmtpServer
from .conftest import login_as, shot

AT = channel_tests.AT
SECRET = channel_tests.SECRET

# The signature-checking servers of the channel tests, reused as they are (fixtures of that module).
serve = channel_tests.serve
dingtalk = channel_tests.dingtalk
wecom = channel_tests.wecom
zzd = channel_tests.zzd
smtp_server = notification_fixtures.smtp_server  # the notifications tests' mail sink

CASE_TITLE = "关于传染病监测预警平台建设滞后的督办"
HEAD = {"email": "linzhigang@zjwjw.example.org", "phone": "13900000001", "zzd": "zzd-10001"}  # set in the browser
SUPERVISOR = {"email": "zhanghuimin@zjwjw.example.org", "phone": "13900000002", "zzd": "zzd-10002"}
STAFF_PHONE = "13900000003"  # 周雅琴: a phone only — no e-mail, no 浙政钉 account


@pytest.fixture
def live_app(demo: Flask, smtp_server: SmtpServer, dingtalk: channel_tests.Server, wecom: channel_tests.Server,
             zzd: channel_tests.Zzd) -> Flask:
    """The demo app with every outbound channel configured, before the live server starts."""
    demo.config.update(
        WTF_CSRF_ENABLED=True,
        SMTP_URL=smtp_server.url,
        DINGTALK_URL=f"{dingtalk.base}/robot/send?access_token=robot-token",
        DINGTALK_SECRET=SECRET,
        WECOM_URL=f"{wecom.base}/cgi-bin/webhook/send?key=wecom-key",
        **zzd.config,
    )
    return demo


# --- browser helpers -------------------------------------------------------------------------------------


def _desktop(page) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1366, "height": 900})


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))


def _sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    if "/login" not in page.url and page.get_by_role("button", name="退出").count():
        _logout(page)
    login_as(page, username)


def _act(page, action: str, comment: str | None = None) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form.case-action").filter(has=page.get_by_role("button", name=action, exact=True))
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    form.get_by_role("button", name=action, exact=True).click()
    page.wait_for_selector(f"text=已{action}。")


def _titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.goto("/notifications")
    return [t.strip() for t in page.locator("#inbox li.message .message-title").all_inner_texts()]


def _expect_message(page, title: str, case_url: str, body: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """The signed-in user has exactly one message ``title``; its 查看 opens the case."""
    titles = _titles(page)
    assert titles.count(title) == 1, f"expected one “{title}” in the inbox, found {titles}"
    message = page.locator("#inbox li.message").filter(
        has=page.locator(".message-title", has_text=re.compile("^" + re.escape(title) + "$")))
    if body is not None:
        assert body in message.locator(".message-body").inner_text()
    message.get_by_role("button", name="查看").click()
    page.wait_for_url(case_url)


def _expect_no_message(page, prefix: str) -> None:  # type: ignore[no-untyped-def]
    titles = _titles(page)
    assert not [t for t in titles if t.startswith(prefix)], f"no “{prefix}…” expected, found {titles}"


def _user_ids(app: Flask, *usernames: str) -> dict[str, int]:
    with unit_of_work(app.extensions["tracker.sessions"]) as session:
        rows = session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all()
        return {username: user_id for username, user_id in rows}


def _deliveries(app: Flask, case_number: str) -> list[tuple[str, Channel, DeliveryState, str, int]]:
    """(username, channel, state, title, delivery id) of every delivery about the case."""
    with unit_of_work(app.extensions["tracker.sessions"]) as session:
        rows = session.execute(
            select(User.username, NotificationDelivery.channel, NotificationDelivery.state, Notification.title,
                   NotificationDelivery.id)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .join(User, User.id == Notification.user_id)
            .where(Notification.title.contains(case_number))
            .order_by(NotificationDelivery.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


# --- the loop --------------------------------------------------------------------------------------------


def test_every_step_of_the_loop_reaches_the_right_people_and_each_channel_once(  # type: ignore[no-untyped-def]
        page, live_app: Flask, smtp_server: SmtpServer, dingtalk, wecom, zzd) -> None:
    _desktop(page)
    # the office and the department's staff member have their addresses on file already
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        supervisor = session.scalars(select(User).where(User.username == "zj_supervisor")).one()
        supervisor.email, supervisor.phone = SUPERVISOR["email"], SUPERVISOR["phone"]
        supervisor.zzd_account_id = SUPERVISOR["zzd"]
        staff = session.scalars(select(User).where(User.username == "zj_staff_jk")).one()
        staff.email, staff.phone, staff.zzd_account_id = None, STAFF_PHONE, None

    # the head enters theirs on 消息接收方式 (defaults: every channel at once for a 责任单位负责人)
    login_as(page, "zj_head_jk")
    page.goto("/notifications/settings")
    for channel in Channel:
        assert page.locator(f"#note-{channel.value}").inner_text().startswith("本系统已开通"), channel
        assert page.locator(f"input[name=mode_{channel.value}][value=immediate]").is_checked(), channel
    page.fill("input[name=email]", HEAD["email"])
    page.fill("input[name=phone]", HEAD["phone"])
    page.fill("input[name=zzd_account_id]", HEAD["zzd"])
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=消息接收方式已保存。")
    assert page.input_value("input[name=email]") == HEAD["email"]
    assert page.input_value("input[name=zzd_account_id]") == HEAD["zzd"]
    _logout(page)

    # 下发: the office files and issues a case to 疾控处 → the head and the staff member hear of it
    login_as(page, "zj_supervisor")
    page.goto("/supervision/new")
    page.select_option("select[name=department_id]", label="浙江省 · 疾控处")
    page.fill("input[name=title]", CASE_TITLE)
    page.fill("textarea[name=problem]", "传染病多点触发监测预警平台建设进度滞后于年度计划。")
    page.fill("textarea[name=requirements]", "10个工作日内报送整改方案。")
    page.get_by_role("button", name="立案并下发").click()
    page.wait_for_selector("text=已立案并下发督办单")
    case_url = page.url
    case_id = int(re.search(r"/supervision/(\d+)$", case_url).group(1))  # type: ignore[union-attr]
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        number = session.get(SupervisionCase, case_id).number_label  # type: ignore[union-attr]
    assert re.fullmatch(r"浙卫督〔2025〕\d+号", number), number

    def title(label: str) -> str:
        return f"{label}：{number} {CASE_TITLE}"

    _expect_no_message(page, title("下发督办单"))  # the actor
    _expect_no_message(page, title("立案"))  # 立案 goes to the office's other supervisors: there are none
    _sign_in(page, "zj_staff_jk")
    _expect_message(page, title("下发督办单"), case_url, body=f"下发督办单 {number}")
    _sign_in(page, "zj_head_jk")
    _expect_message(page, title("下发督办单"), case_url)

    # 签收 and 整改方案 by the head → the office
    page.goto(case_url)
    _act(page, "签收")
    _act(page, "提交整改方案", "成立专班，12月底前完成平台部署和人员培训")
    _expect_no_message(page, title("签收"))
    _expect_no_message(page, title("提交整改方案"))
    _sign_in(page, "zj_supervisor")
    _expect_message(page, title("签收"), case_url)
    _expect_message(page, title("提交整改方案"), case_url, body="成立专班")

    # 提交复核 by the head → the office
    _sign_in(page, "zj_head_jk")
    page.goto(case_url)
    _act(page, "提交复核", "平台已上线试运行")
    _expect_no_message(page, title("提交复核"))
    _sign_in(page, "zj_supervisor")
    _expect_message(page, title("提交复核"), case_url, body="平台已上线试运行")

    # 退回 with a reason by the office → the head (not the staff member)
    page.goto(case_url)
    _act(page, "退回", "缺少试运行报告和验收材料")
    _expect_no_message(page, title("退回"))
    _sign_in(page, "zj_staff_jk")
    _expect_no_message(page, title("退回"))
    _sign_in(page, "zj_head_jk")
    _expect_message(page, title("退回"), case_url, body="缺少试运行报告和验收材料")

    # the head submits again → the office has a second 提交复核
    page.goto(case_url)
    _act(page, "提交复核", "已补充试运行报告和验收材料")
    _sign_in(page, "zj_supervisor")
    titles = _titles(page)
    assert titles.count(title("提交复核")) == 2, titles
    assert "已补充试运行报告和验收材料" in page.locator("#inbox li.message").first.inner_text()  # newest first

    # 销号 with a rating by the office → the head
    page.goto(case_url)
    form = page.locator("form.case-action").filter(has=page.get_by_role("button", name="销号", exact=True))
    form.locator("select[name=outcome]").select_option(label="按期整改")
    form.locator("select[name=rating]").select_option(label="4星")
    form.get_by_role("button", name="销号", exact=True).click()
    page.wait_for_selector("text=已销号。")
    _expect_no_message(page, title("销号"))
    supervisor_titles = [t for t in _titles(page) if number in t]
    assert Counter(supervisor_titles) == Counter({title("签收"): 1, title("提交整改方案"): 1, title("提交复核"): 2})
    shot(page, "loop-talks-supervisor-inbox")
    _sign_in(page, "zj_head_jk")
    _expect_message(page, title("销号"), case_url, body="评价4星")
    head_titles = [t for t in _titles(page) if number in t]
    assert Counter(head_titles) == Counter({title("下发督办单"): 1, title("退回"): 1, title("销号"): 1})
    shot(page, "loop-talks-head-inbox")
    _sign_in(page, "zj_staff_jk")
    assert [t for t in _titles(page) if number in t] == [title("下发督办单")]

    # --- what was queued, without any job having run -----------------------------------------------------
    head_msgs = [title(a) for a in ("下发督办单", "退回", "销号")]
    office_msgs = [title(a) for a in ("签收", "提交整改方案", "提交复核", "提交复核")]
    staff_msgs = [title("下发督办单")]
    queued = _deliveries(live_app, number)
    assert {state for *_, state, _t, _i in queued} == {DeliveryState.PENDING}

    def queued_on(channel: Channel) -> Counter[tuple[str, str]]:
        return Counter((user, t) for user, c, _s, t, _i in queued if c == channel)

    everyone = Counter([("zj_head_jk", t) for t in head_msgs] + [("zj_supervisor", t) for t in office_msgs]
                       + [("zj_staff_jk", t) for t in staff_msgs])
    addressed = Counter({k: v for k, v in everyone.items() if k[0] != "zj_staff_jk"})
    assert queued_on(Channel.EMAIL) == addressed  # no e-mail address: nothing queued for 周雅琴
    assert queued_on(Channel.DINGTALK) == everyone
    assert queued_on(Channel.WECOM) == everyone
    assert queued_on(Channel.ZZD) == addressed  # no 浙政钉 account: nothing queued for 周雅琴

    # --- the delivery run: each server gets exactly its messages ------------------------------------------
    channels = Channels.from_config(live_app.config)
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        counts = deliver_pending(session, channels, at=AT)
    assert counts == {"sent": len(queued), "retry": 0, "failed": 0}, counts

    # e-mail: one per message to each recipient with an address
    mails = [(recipients, message) for _sender, recipients, message in smtp_server.received
             if number in str(message["Subject"])]
    assert Counter((tuple(r), str(m["Subject"])) for r, m in mails) == Counter(
        [((HEAD["email"],), t) for t in head_msgs] + [((SUPERVISOR["email"],), t) for t in office_msgs])
    assert all(str(m["To"]) == r[0] for r, m in mails)
    close_mail = next(m for _r, m in mails if str(m["Subject"]) == title("销号"))
    assert close_mail.get_content().startswith("林志刚：") and "评价4星" in close_mail.get_content()

    # DingTalk: every post passed the 加签 check (the server records only valid ones) and @-mentions by phone
    phones = {"zj_head_jk": HEAD["phone"], "zj_supervisor": SUPERVISOR["phone"], "zj_staff_jk": STAFF_PHONE}
    names = {"zj_head_jk": "林志刚", "zj_supervisor": "张慧敏", "zj_staff_jk": "周雅琴"}
    expected_robot = Counter((f"{names[u]}：{t}", phones[u]) for (u, t), n in everyone.items() for _ in range(n))
    ding = [p for p in dingtalk.received if number in p["text"]["content"]]
    assert Counter((p["text"]["content"].split("\n")[0], p["at"]["atMobiles"][0]) for p in ding) == expected_robot
    assert all(p["at"] == {"atMobiles": [p["at"]["atMobiles"][0]], "isAtAll": False} for p in ding)
    assert len(dingtalk.requests) == len(ding)  # none refused (a bad signature would be answered, not recorded)
    timestamp = int(AT.timestamp() * 1000)
    good_sign = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(),
                                          hashlib.sha256).digest()).decode()
    assert all(f"timestamp={timestamp}&sign={urllib.parse.quote_plus(good_sign)}" in r for r in dingtalk.requests)

    # WeCom: mentioned_mobile_list
    wx = [p for p in wecom.received if number in p["text"]["content"]]
    assert Counter((p["text"]["content"].split("\n")[0], p["text"]["mentioned_mobile_list"][0]) for p in wx) == \
        expected_robot
    assert len(wecom.requests) == len(wx)

    # 浙政钉: valid HMAC headers (checked by the server), one bizMsgId per delivery, to the right account
    zzd_rows = [(u, t, i) for u, c, _s, t, i in queued if c == Channel.ZZD]
    accounts = {"zj_head_jk": HEAD["zzd"], "zj_supervisor": SUPERVISOR["zzd"]}
    assert sorted(zzd.delivered) == sorted(f"tracker-{i}" for *_, i in zzd_rows)
    for user, t, delivery_id in zzd_rows:
        receiver, msg = zzd.delivered[f"tracker-{delivery_id}"]
        assert receiver == accounts[user] and msg["text"]["content"].split("\n")[0] == t
    sends = [r for r in zzd.server.requests if r.startswith("POST /message/workNotification")]
    assert len(sends) == len(zzd_rows)  # each delivery sent once
    assert zzd.tokens_issued == 1
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        assert biz_msg_id(session.get(NotificationDelivery, zzd_rows[0][2])) == f"tracker-{zzd_rows[0][2]}"

    assert {state for *_, state, _t, _i in _deliveries(live_app, number)} == {DeliveryState.SENT}

    # nothing twice: a second run sends nothing new
    received = (len(smtp_server.received), len(dingtalk.requests), len(wecom.requests), len(zzd.server.requests))
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        assert deliver_pending(session, channels, at=AT) == {"sent": 0, "retry": 0, "failed": 0}
    assert (len(smtp_server.received), len(dingtalk.requests), len(wecom.requests),
            len(zzd.server.requests)) == received


# --- 每日汇总 means no immediate e-mail ------------------------------------------------------------------------


def test_a_daily_digest_choice_for_email_queues_no_email_for_the_next_event(  # type: ignore[no-untyped-def]
        page, live_app: Flask) -> None:
    _desktop(page)
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        staff = session.scalars(select(User).where(User.username == "zj_staff_jk")).one()
        staff.email = "zhouyaqin@zjwjw.example.org"  # keeps the default (at once): the contrast

    login_as(page, "zj_head_jk")
    page.goto("/notifications/settings")
    page.fill("input[name=email]", HEAD["email"])
    page.fill("input[name=zzd_account_id]", HEAD["zzd"])
    page.check("input[name=mode_email][value=digest]")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=消息接收方式已保存。")
    assert page.locator("input[name=mode_email][value=digest]").is_checked()
    assert page.locator("input[name=mode_zzd][value=immediate]").is_checked()
    _logout(page)

    login_as(page, "zj_supervisor")
    page.goto("/supervision/new")
    page.select_option("select[name=department_id]", label="浙江省 · 疾控处")
    page.fill("input[name=title]", CASE_TITLE)
    page.fill("textarea[name=problem]", "平台建设进度滞后。")
    page.get_by_role("button", name="立案并下发").click()
    page.wait_for_selector("text=已立案并下发督办单")
    case_id = int(re.search(r"/supervision/(\d+)$", page.url).group(1))  # type: ignore[union-attr]

    ids = _user_ids(live_app, "zj_head_jk", "zj_staff_jk")
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        number = session.get(SupervisionCase, case_id).number_label  # type: ignore[union-attr]
        rows = session.execute(
            select(Notification.user_id, NotificationDelivery.channel)
            .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
            .where(Notification.title == f"下发督办单：{number} {CASE_TITLE}")).all()
        inbox = set(session.scalars(select(Notification.user_id).where(
            Notification.title == f"下发督办单：{number} {CASE_TITLE}")))
    by_user = {uid: {c for u, c in rows if u == uid} for uid in ids.values()}
    assert inbox == {ids["zj_head_jk"], ids["zj_staff_jk"]}  # the inbox message itself is always there
    assert by_user[ids["zj_head_jk"]] == {Channel.DINGTALK, Channel.WECOM, Channel.ZZD}  # no e-mail: 每日汇总
    assert by_user[ids["zj_staff_jk"]] == {Channel.EMAIL, Channel.DINGTALK, Channel.WECOM}  # no 浙政钉 account
