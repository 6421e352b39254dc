"""The console in a real browser: Debian's chromium, headless, driven by Playwright, against a
real server. What a person does - look at the overview, browse, redrive, edit, send, sign
in - is checked on the page and then through gRPC. Each page's screenshot is saved as a test
artifact (``CONVEYOR_ARTIFACTS``, default ``test-artifacts/console``), and every request the
page makes must go to the server itself."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
from collections.abc import Iterator

import pytest
from console_helpers import TOKENS, Http, auth_file, start_console
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright
from rpc_helpers import create_queue, dead_letters, message, peek, pull, send, stats
from server_helpers import ServerProcess

from conveyor.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = pathlib.Path(os.environ.get("CONVEYOR_ARTIFACTS", ROOT / "test-artifacts")) / "console"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000
"""Longest wait for the page to show something (the overview polls every two seconds)."""
expect.set_options(timeout=WAIT_MS)


def chromium() -> str:
    path = os.environ.get("CONVEYOR_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("Debian's chromium is not installed: run scripts/setup")
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=chromium(),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(WAIT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser: BrowserContext, server: ServerProcess) -> Iterator[Page]:
    yield from _page(browser, server)


def _page(browser: BrowserContext, server: ServerProcess) -> Iterator[Page]:
    page = browser.new_page()
    base = f"http://{server.http_address}/"
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        page.close()
    assert elsewhere == [], "the console asked another host"
    assert errors == [], "the page raised"


def go(page: Page, server: ServerProcess, route: str = "") -> None:
    page.goto(f"http://{server.http_address}/{route}")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_shows_a_new_queue_and_its_depth_moving(
    page: Page,
    server: ServerProcess,
    admin_stub: admin_pb2_grpc.AdminStub,
    broker_stub: broker_pb2_grpc.BrokerStub,
) -> None:
    create_queue(admin_stub, "ov-orders")
    send(broker_stub, "ov-orders", "a", "b")
    go(page, server)
    row = page.locator('tr[data-queue="ov-orders"]')
    expect(row.locator('[data-col="ready"]')).to_have_text("2")
    expect(page.locator("#health")).to_have_text("SERVING")
    send(broker_stub, "ov-orders", "c", "d", "e")
    expect(row.locator('[data-col="ready"]')).to_have_text("5")  # the next poll shows it
    pull(broker_stub, "ov-orders", "s", max_messages=2)
    expect(row.locator('[data-col="in_flight"]')).to_have_text("2")
    expect(row.locator('[data-col="ready"]')).to_have_text("3")
    expect(row.locator('[data-col="in"]')).to_have_text(
        re.compile(r"^\d+(\.\d)?$")
    )  # the server's rate
    line = row.locator("svg.spark path.depth")
    assert (line.get_attribute("d") or "").startswith("M")  # the depth sparkline is drawn
    shot(page, "overview")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(row).to_be_visible()
    # Phone width: the page itself never scrolls sideways (wide tables scroll in their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "overview-phone")


def test_browsing_a_message_changes_nothing(
    page: Page,
    server: ServerProcess,
    admin_stub: admin_pb2_grpc.AdminStub,
    broker_stub: broker_pb2_grpc.BrokerStub,
) -> None:
    create_queue(admin_stub, "br-events")
    mid = send(
        broker_stub,
        "br-events",
        message('{"order":7,"lines":[1,2]}', topic="shop.eu.paid", attributes={"tenant": "acme"}),
        message("other", topic="audit.login"),
    )[0].message_id
    before = stats(admin_stub, "br-events")
    go(page, server, "#/queue/br-events/messages")
    page.fill("#filter-topic", "shop.*.paid")
    page.press("#filter-topic", "Enter")  # the keyboard submits the filter
    expect(page.locator("#messages tbody tr")).to_have_count(1)
    page.locator(f'tr[data-id="{mid}"] button').click()
    expect(page.locator("#payload")).to_contain_text('"lines": [\n    1,')
    expect(page.locator("#attributes")).to_contain_text("tenant")
    expect(page.locator("#timeline li")).to_have_count(2)  # stored, then the status now
    expect(page.locator("#timeline")).to_contain_text("pending")
    shot(page, "message")
    page.click('button[data-view="hex"]')
    expect(page.locator("#payload")).to_contain_text("7b 22 6f 72")
    after = stats(admin_stub, "br-events")
    assert (after.ready, after.in_flight, after.delivered, after.redelivered) == (
        before.ready,
        before.in_flight,
        before.delivered,
        before.redelivered,
    )
    first = pull(broker_stub, "br-events", "s", max_messages=2)
    assert sorted(d.attempt for d in first) == [1, 1]  # nobody had been handed them
    # The open watch follows the message: the delivery appears on the timeline.
    expect(page.locator("#timeline")).to_contain_text("in flight")


def test_redriving_dead_letters_puts_them_back_in_their_queue(
    page: Page,
    server: ServerProcess,
    admin_stub: admin_pb2_grpc.AdminStub,
    broker_stub: broker_pb2_grpc.BrokerStub,
) -> None:
    create_queue(admin_stub, "rd-dlq")
    create_queue(admin_stub, "rd-work", dead_letter_queue="rd-dlq")
    send(broker_stub, "rd-work", "broken", "second", "third")
    deliveries = pull(broker_stub, "rd-work", "s", max_messages=3)
    broker_stub.Nack(
        broker_pb2.NackRequest(
            ack_ids=[d.ack_id for d in deliveries], dead_letter=True, reason="bad total"
        ),
        timeout=10,
    )
    letters = {m.payload: m.id for m in dead_letters(admin_stub, "rd-dlq")}
    go(page, server, "#/queue/rd-dlq/dead")
    table = page.locator("#dead-letters")
    expect(table).to_contain_text("bad total")
    expect(table).to_contain_text("rd-work")
    shot(page, "dead-letters")
    # Its source message, followed by id: finished, dead-lettered with the consumer's reason.
    table.locator(f'tbody tr[data-id="{letters[b"broken"]}"] button').first.click()
    source = next(d for d in deliveries if d.message.payload == b"broken").message.id
    page.get_by_role("link", name=f"{source} in rd-work").click()
    expect(page.locator("#timeline")).to_contain_text("dead lettered · 1 attempt(s) · bad total")
    expect(page.locator("#timeline")).to_contain_text("final: no more changes")
    shot(page, "message-by-id")
    go(page, server, "#/queue/rd-dlq/dead")
    # One by its own button (not the oldest), then the two left, ticked.
    table.get_by_role("button", name=f"Redrive {letters[b'second']}").click()
    expect(page.locator("#redrive-result")).to_have_text("Redrove 1.")
    assert sorted(m.payload for m in dead_letters(admin_stub, "rd-dlq")) == [b"broken", b"third"]
    assert [p.message.payload for p in peek(admin_stub, "rd-work")] == [b"second"]
    expect(page.locator("#redrive-selected")).to_be_disabled()
    for payload in (b"broken", b"third"):
        page.get_by_role("checkbox", name=f"Select {letters[payload]}").check()
    page.click("#redrive-selected")
    expect(page.locator("#redrive-result")).to_have_text("Redrove 2.")
    assert stats(admin_stub, "rd-work").ready == 3
    assert dead_letters(admin_stub, "rd-dlq") == []
    go(page, server, "#/queue/rd-work")
    expect(page.locator('#stats [data-col="ready"]')).to_have_text("3")


def test_editing_the_lease_and_a_bad_value_refused_with_the_servers_message(
    page: Page, server: ServerProcess, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    create_queue(admin_stub, "ed-jobs", lease=30)
    go(page, server, "#/queue/ed-jobs")
    page.fill("#f-lease", "0")
    page.click("#save")
    problem = page.locator("#config-problem")
    expect(problem).to_have_text("lease must be positive and at most 31622400s, got 0.0s")
    assert _lease(admin_stub, "ed-jobs") == 30.0
    shot(page, "queue-refused")
    page.fill("#f-lease", "45.5")
    page.press("#f-lease", "Enter")
    expect(page.locator("#toast")).to_contain_text("Saved lease")
    assert _lease(admin_stub, "ed-jobs") == 45.5
    expect(page.locator("#f-lease")).to_have_value("45.5")
    shot(page, "queue")


def test_pause_resume_and_purge_with_confirmation(
    page: Page,
    server: ServerProcess,
    admin_stub: admin_pb2_grpc.AdminStub,
    broker_stub: broker_pb2_grpc.BrokerStub,
) -> None:
    create_queue(admin_stub, "pp-tasks")
    send(broker_stub, "pp-tasks", "t1", "t2", "t3")
    go(page, server, "#/queue/pp-tasks")
    page.click("#pause")
    expect(page.locator("#resume")).to_be_visible()
    assert stats(admin_stub, "pp-tasks").paused
    page.click("#resume")
    expect(page.locator("#pause")).to_be_visible()
    assert not stats(admin_stub, "pp-tasks").paused
    page.click("#purge")
    confirm = page.get_by_role("alertdialog", name="Confirm purge")
    expect(confirm).to_contain_text("Delete the 3 waiting messages of pp-tasks?")
    assert stats(admin_stub, "pp-tasks").ready == 3  # asking changed nothing
    page.keyboard.press("Enter")  # the confirm button has the focus
    expect(page.locator("#purged")).to_have_text("Purged 3 messages.")
    assert stats(admin_stub, "pp-tasks").ready == 0


def _lease(admin: admin_pb2_grpc.AdminStub, name: str) -> float:
    q = admin.GetQueue(admin_pb2.GetQueueRequest(queue=name), timeout=10).queue
    return q.lease.ToNanoseconds() / 1e9


def test_sending_from_the_form(
    page: Page, server: ServerProcess, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    create_queue(admin_stub, "sd-inbox")
    go(page, server, "#/send/sd-inbox")
    page.fill("#send-topic", "mail.new")
    page.fill("#send-payload", '{"hi": 1}')
    page.fill("#send-attributes", "source=console\ntrace=abc")
    page.fill("#send-delay", "90")
    page.click("#send-button")
    expect(page.locator("#send-result")).to_contain_text("Sent ")
    shot(page, "send")
    seen = peek(admin_stub, "sd-inbox")
    assert len(seen) == 1
    m = seen[0].message
    assert (m.topic, m.payload, dict(m.attributes)) == (
        "mail.new",
        b'{"hi": 1}',
        {"source": "console", "trace": "abc"},
    )
    assert stats(admin_stub, "sd-inbox").delayed == 1
    page.locator("#send-result a").first.click()  # to the message browser
    page.locator(f'tr[data-id="{m.id}"] button').click()
    expect(page.locator(f'tr[data-id="{m.id}"]')).to_contain_text("delayed")
    page.click("#cancel")
    expect(page.locator("#toast")).to_contain_text(f"Message {m.id} is now cancelled")
    assert stats(admin_stub, "sd-inbox").delayed == 0


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("console-auth")
    srv = start_console(folder / "data", "--auth-file", str(auth_file(folder)))
    try:
        yield srv
    finally:
        srv.stop()


def test_sign_in_refuses_a_bad_token_and_keeps_a_good_one_for_the_session(
    browser: BrowserContext, guarded: ServerProcess
) -> None:
    for page in _page(browser, guarded):
        go(page, guarded)
        token = page.locator("#token")
        expect(token).to_be_focused()
        page.keyboard.type("not-the-token")
        page.keyboard.press("Enter")
        expect(page.locator("#login-problem")).to_have_text("the token is not known to this server")
        shot(page, "login-refused")
        expect(page.locator("#queues")).to_have_count(0)
        token.fill(TOKENS["sender"])
        token.press("Enter")
        expect(page.locator("#login-problem")).to_contain_text("'sender' may not admin")
        token.fill(TOKENS["admin"])
        token.press("Enter")
        expect(page.locator("#who")).to_have_text("signed in as admin")
        expect(page.locator("#health")).to_have_text("SERVING")
        assert page.evaluate("sessionStorage.getItem('conveyor.token')") == TOKENS["admin"]
        page.reload()  # the session keeps the token
        expect(page.locator("#who")).to_have_text("signed in as admin")
        page.click("#signout")
        expect(page.locator("#token")).to_be_visible()


def test_an_operator_of_some_queues_sees_those_in_the_overview(
    browser: BrowserContext, guarded: ServerProcess
) -> None:
    admin = Http(guarded, TOKENS["admin"])
    for name in ("orders.web", "billing.web"):
        assert admin.call("POST", "/queues", {"name": name})[0] == 201
    admin.post("/send", {"queue": "orders.web", "message": {"payload": ""}})
    for page in _page(browser, guarded):
        go(page, guarded)
        page.locator("#token").fill(TOKENS["ops"])  # admin on orders.* and billing.eu only
        page.locator("#token").press("Enter")
        expect(page.locator("#who")).to_have_text("signed in as ops")
        row = page.locator('tr[data-queue="orders.web"]')
        expect(row.locator('[data-col="ready"]')).to_have_text("1")
        expect(page.locator("#health")).to_have_text("SERVING")
        expect(page.locator('tr[data-queue="billing.web"]')).to_have_count(0)
        shot(page, "overview-some-queues")


def test_every_page_fits_a_phone_and_works_from_the_keyboard(
    browser: BrowserContext, server: ServerProcess, admin_stub: admin_pb2_grpc.AdminStub
) -> None:
    create_queue(admin_stub, "ph-dlq")
    create_queue(admin_stub, "ph-queue", dead_letter_queue="ph-dlq")
    for page in _page(browser, server):
        page.set_viewport_size({"width": 360, "height": 740})
        for route, name in [
            ("#/", "overview"),
            ("#/queue/ph-queue", "queue"),
            ("#/queue/ph-queue/messages", "messages"),
            ("#/queue/ph-dlq/dead", "dead-letters"),
            ("#/send/ph-queue", "send"),
        ]:
            go(page, server, route)
            expect(page.locator("main h1")).to_be_visible()
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (route, width)  # wide tables scroll inside their own box
            shot(page, f"phone-{name}")
        go(page, server, "#/")
        expect(page.locator("#health")).to_have_text("SERVING")
        page.keyboard.press("Tab")
        expect(page.locator(".skip")).to_be_focused()
        for _ in range(3):  # the brand, Overview, then Send
            page.keyboard.press("Tab")
        expect(page.locator('[data-nav="send"]')).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main h1")).to_have_text("Send a test message")
