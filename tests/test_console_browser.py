"""The console in real headless Chromium (Debian's package) against a live `ivr serve` on
loopback: log in, the Now page, closing a line that a simulated call then skips, roles, CSRF,
the keypad reaching a Dial at a pinned instant, no console errors on any page. A screenshot of
every page is saved under screenshots/ (not committed) for a reviewer."""
from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from console_fixtures import EDITOR, PASSWORD, SCREENSHOTS, VIEWER
from ivr.store import closures
from ivr.store.database import StoreSettings, make_engine

PAGES = ("", "coverage", "demand", "outcomes", "report", "health", "try")
ABUSE, HATEAID, PARENTS = "+498002255530", "+493025208838", "+498001110550"


def _url(server, path: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"http://127.0.0.1:{server.port}/console/{path}"


def _submit(driver: WebDriver, element: WebElement | None, keys: str | None = None) -> None:
    """Click `element` (or press `keys` on the keyboard) and wait until the next page has
    replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    if element is not None:
        element.click()
    else:
        ActionChains(driver).send_keys(keys).perform()
    # While the old document goes, Chromium may answer "node does not belong to the document".
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(expected_conditions.staleness_of(page))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _errors(driver: WebDriver) -> list[str]:
    """Console messages of level SEVERE since the last call (CSP violations, 404s, script errors)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _login(driver: WebDriver, server, name: str) -> None:  # type: ignore[no-untyped-def]
    driver.delete_all_cookies()
    driver.get(_url(server, "login"))
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _submit(driver, driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]"))
    assert driver.current_url == _url(server), driver.current_url


def _active(server) -> set[str]:  # type: ignore[no-untyped-def]
    import datetime as dt
    engine = make_engine(StoreSettings.from_env(server.env))
    try:
        return {c.line_id for c in closures.active(engine, dt.datetime.now(dt.timezone.utc))}
    finally:
        engine.dispose()


def _shot(driver: WebDriver, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _dial_after_zero(driver: WebDriver, server, at: str | None = None) -> str:  # type: ignore[no-untyped-def]
    driver.get(_url(server, "try"))
    if at is not None:
        field = driver.find_element(By.ID, "at")
        driver.execute_script("arguments[0].value = arguments[1]", field, at)
    _submit(driver, driver.find_element(By.ID, "start-call"))
    _submit(driver, driver.find_element(By.CSS_SELECTOR, '#keypad button[data-key="0"]'))
    return driver.find_element(By.ID, "dialled").text


def test_login_shows_the_now_page_with_every_line(browser: WebDriver, console_server) -> None:
    browser.get(_url(console_server))
    assert "/console/login" in browser.current_url  # not logged in: sent to the login form
    _login(browser, console_server, EDITOR)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wer ist jetzt erreichbar?"
    rows = {row.get_attribute("id"): row.text for row in browser.find_elements(By.CSS_SELECTOR, "table.lines tbody tr")}
    assert set(rows) == {"line-kids-line", "line-parents-line", "line-hateaid", "line-abuse-helpline"}
    assert "offen bis 14:00" in rows["line-abuse-helpline"]  # Monday 10:30: open until 14:00
    assert "geschlossen" in rows["line-kids-line"]
    # kids-line opens at 14:00, but abuse-helpline serves young people too
    assert browser.find_elements(By.CSS_SELECTOR, "ul.nobody") == []
    assert "Für jede Gruppe" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=nobody-h]").text
    assert _errors(browser) == []
    _shot(browser, "now")


def test_every_page_renders_in_both_languages_without_console_errors(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    for lang in ("en", "de"):
        browser.get(_url(console_server, f"lang/{lang}?next=/console/"))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        for page in PAGES:
            browser.get(_url(console_server, page))
            heading = browser.find_element(By.TAG_NAME, "h1").text
            assert heading, page
            assert _errors(browser) == [], page
            if page in ("coverage", "demand"):
                charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")
                assert charts and all(c.find_element(By.TAG_NAME, "title").get_attribute("textContent") for c in charts)
            if lang == "en":
                _shot(browser, page or "now-en")
            if page == "report":  # printed: the navigation and the month form stay off the paper
                browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
                assert not browser.find_element(By.CSS_SELECTOR, "header.top").is_displayed()
                assert not browser.find_element(By.CSS_SELECTOR, "div.no-print").is_displayed()
                assert browser.find_element(By.CSS_SELECTOR, "article.report h1").is_displayed()
                browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_closed_line_is_skipped_by_a_simulated_call_then_reopened(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    assert _dial_after_zero(browser, console_server).startswith(f"Würde {ABUSE} wählen")
    browser.get(_url(console_server))
    browser.find_element(By.ID, "reason-abuse-helpline").send_keys("Krankheit im Team")
    _submit(browser, browser.find_element(By.ID, "close-abuse-helpline"))
    row = browser.find_element(By.ID, "line-abuse-helpline").text
    assert "von Hand geschlossen" in row and "Krankheit im Team" in row
    assert _active(console_server) == {"abuse-helpline"}
    assert HATEAID in _dial_after_zero(browser, console_server)  # the next best open line
    _shot(browser, "try-skips-closed")
    browser.get(_url(console_server))
    assert "Krankheit im Team" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=changes-h]").text
    _submit(browser, browser.find_element(By.ID, "reopen-abuse-helpline"))
    assert "offen bis 14:00" in browser.find_element(By.ID, "line-abuse-helpline").text
    assert _active(console_server) == set()
    assert ABUSE in _dial_after_zero(browser, console_server)
    assert _errors(browser) == []


def test_a_viewer_sees_no_close_button_and_a_forged_close_is_refused(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, VIEWER)
    assert browser.find_elements(By.CSS_SELECTOR, "form.close") == []
    token = browser.find_element(By.CSS_SELECTOR, "input[name=csrf_token]").get_attribute("value")
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/close', {method: 'POST', body: new URLSearchParams(
            {csrf_token: arguments[0], line_id: 'hateaid', reason: 'viewer tries'})}).then(r => done(r.status));
    """, token)
    assert status == 403
    assert _active(console_server) == set()
    browser.get_log("browser")  # the 403 above was expected; start the next page with a clean log


def test_a_form_without_its_csrf_token_is_refused(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    form = browser.find_element(By.CSS_SELECTOR, "#line-hateaid form.close")
    browser.execute_script("arguments[0].querySelector('input[name=csrf_token]').remove()", form)
    browser.find_element(By.ID, "reason-hateaid").send_keys("ohne Token")
    _submit(browser, browser.find_element(By.ID, "close-hateaid"))
    assert "Das Formular ist abgelaufen" in browser.find_element(By.CSS_SELECTOR, "p.problem").text
    assert _active(console_server) == set()
    browser.get_log("browser")  # the 400 was expected


def test_the_keypad_reaches_a_dial_at_a_pinned_instant(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    browser.get(_url(console_server, "try"))
    field = browser.find_element(By.ID, "at")
    browser.execute_script("arguments[0].value = '2026-12-01T10:00'", field)  # Tuesday: only parents-line open
    _submit(browser, browser.find_element(By.ID, "start-call"))
    sentences = browser.find_elements(By.CSS_SELECTOR, "#transcript li.say")
    assert sentences and all(s.text for s in sentences)
    assert any("110" in s.text for s in sentences)  # emergency numbers in the first sentences
    _submit(browser, None, "2")  # the keyboard presses the key (keypad.js): parents or family
    dialled = browser.find_element(By.ID, "dialled").text
    assert PARENTS in dialled and "+490000000000" in dialled  # the line sees the service's number
    assert browser.find_element(By.ID, "speak").is_displayed()
    for status in browser.find_elements(By.CSS_SELECTOR, "#keypad button[name=status]"):
        assert status.get_attribute("value") in ("completed", "completed-short", "busy", "no-answer", "failed")
    assert _errors(browser) == []
    _shot(browser, "try")


PHONE_W, PHONE_H = 390, 844


def _as_phone(driver: WebDriver, on: bool = True) -> None:
    """A phone's viewport (390 x 844 CSS px, touch, the page's viewport meta obeyed), or back."""
    if on:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE_W, "height": PHONE_H, "deviceScaleFactor": 3, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _overflow(driver: WebDriver) -> list[str]:
    """What sticks out of the viewport to the right: the page's width, and each element whose
    box ends beyond it (inside a box that scrolls on its own does not count)."""
    return driver.execute_script("""
        const width = arguments[0], out = [];
        if (document.documentElement.scrollWidth > width) out.push('page ' + document.documentElement.scrollWidth);
        for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (!r.width || r.right <= width + 0.5) continue;
            let p = el.parentElement, inside = false;
            while (p) { if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) { inside = true; break; } p = p.parentElement; }
            if (!inside) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className : '') + ' ' + Math.round(r.right));
        }
        return out.slice(0, 12);
    """, PHONE_W)


def test_every_page_fits_a_phone_without_a_sideways_scroll(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    _as_phone(browser)
    try:
        found = {}
        for lang in ("de", "en"):
            browser.get(_url(console_server, f"lang/{lang}?next=/console/"))
            for page in (*PAGES, "login"):
                browser.get(_url(console_server, page))
                assert browser.execute_script("return document.documentElement.clientWidth") == PHONE_W
                found[(lang, page)] = _overflow(browser)
                if lang == "de":
                    _shot(browser, f"phone-{page or 'now'}")
        bad = {key: value for key, value in found.items() if value}
        assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())
        browser.get(_url(console_server))
        for button in browser.find_elements(By.CSS_SELECTOR, "form.close button"):  # reachable without scrolling sideways
            assert button.rect["x"] >= 0 and button.rect["x"] + button.rect["width"] <= PHONE_W, button.rect
    finally:
        _as_phone(browser, False)


def test_the_coverage_chart_fills_the_width_with_hour_labels_of_12_px_or_more(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    browser.get(_url(console_server, "coverage"))
    found = browser.execute_script("""
        const svg = document.querySelector('svg.timeline'), main = document.querySelector('main');
        const box = svg.getBoundingClientRect(), style = getComputedStyle(main);
        const room = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const scale = box.width / svg.viewBox.baseVal.width;
        const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
        return {width: box.width, room: room, smallest: Math.min(...sizes),
                hours: [...svg.querySelectorAll('text.hour')].map(t => t.textContent)};
    """)
    assert found["width"] >= 0.98 * found["room"], found  # the whole width of the page's content
    assert found["smallest"] >= 12, found  # every label, as drawn on the screen
    assert found["hours"] == ["6", "12", "18"] * 14  # each day's hours labelled
    assert _errors(browser) == []
    _shot(browser, "coverage-desktop")


def test_a_simulated_call_in_arabic_is_shown_right_to_left(browser: WebDriver, console_server) -> None:
    _login(browser, console_server, EDITOR)
    browser.get(_url(console_server, "try"))
    _submit(browser, browser.find_element(By.ID, "start-call"))
    _submit(browser, None, "8")  # the language menu
    _submit(browser, None, "2")  # Arabic
    sentences = browser.find_elements(By.CSS_SELECTOR, "#transcript li.say")
    arabic = [s for s in sentences if s.get_attribute("lang") == "ar"]
    assert arabic and all(s.value_of_css_property("direction") == "rtl" for s in arabic)
    assert all(s.value_of_css_property("direction") == "ltr" for s in sentences if s.get_attribute("lang") == "de")
    assert any("Deutsch 9" == s.text for s in sentences)
    assert _errors(browser) == []
    _shot(browser, "try-arabic")
