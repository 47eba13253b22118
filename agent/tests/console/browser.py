"""Drives the web console in headless Chromium over WebDriver (Selenium), against a live `faxline serve`.

Usage: browser.py BASE_URL USERNAME PASSWORD PDF SCREENSHOT_DIR [MODE [ARG]]

MODE `send` (the default):
Logs in, prepares a fax and discards it, prepares PDF and a short text file (written here) joined behind a
cover page to a number, checks the preview of its three pages (screenshots), sends it, follows the fax in
the outbox until it reaches SUCCESS, opens the
received copy in the inbox (page images must load), marks it read, logs out; screenshots every page
at desktop and phone widths. MODE `bulk-start CSV`: logs in and starts a bulk send of PDF to the
recipients in CSV, printing the batch's URL. MODE `bulk-finish URL`: logs in (after a server restart),
watches the batch until it is done, screenshots the bulk pages. MODE `two-step`: logs in with the
password alone, sets up two-step login on the Account page (reading the base32 key shown once and
computing codes as an authenticator app does, RFC 6238), confirms it, logs out, and logs in again with
password and code; screenshots the account and code pages. Prints one JSON object (what it saw) on
stdout; any failure raises.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

BASE, USER, PASSWORD, PDF, SHOTS = sys.argv[1:6]
MODE = sys.argv[6] if len(sys.argv) > 6 else "send"
ARG = sys.argv[7] if len(sys.argv) > 7 else None
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMEDRIVER = os.environ.get("FAXLINE_CHROMEDRIVER", "/usr/bin/chromedriver")


def driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("FAXLINE_CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--hide-scrollbars"):
        opts.add_argument(arg)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    return d


def shot(d, name, size):
    """Resizes, waits until the page is laid out at that width with its images loaded and painted
    (conditions, not a fixed pause), and saves the screenshot."""
    width, _ = SIZES[size]
    d.set_window_size(*SIZES[size])
    wait_for(f"{name} laid out at {size} width", lambda: d.execute_script(
        "return document.readyState === 'complete' && Math.abs(window.innerWidth - arguments[0]) <= 40",
        width), 15, 0.05)
    if d.find_elements(By.CSS_SELECTOR, ".pages img, ul.inbox img"):
        wait_for(f"images of {name} at {size} width", lambda: images_loaded(d), 30, 0.1)
    # Two animation frames: the resized layout has been painted.
    d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));")
    path = os.path.join(SHOTS, f"{name}-{size}.png")
    assert d.save_screenshot(path), path
    return path


def wait_for(what, check, timeout=180, every=1.0):
    """Polls `check` until it returns something true. A page being replaced meanwhile (an element
    gone stale or not there yet) counts as "not yet"; an AssertionError from `check` fails at once."""
    end = time.time() + timeout
    while True:
        try:
            value = check()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        if time.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def on_page(d, path_part, element_id, timeout=60):
    """Waits until the browser shows a page whose URL contains `path_part`, fully loaded, with the
    element `element_id`; returns that element's text."""
    def ready():
        if path_part not in d.current_url:
            return None
        if d.execute_script("return document.readyState") != "complete":
            return None
        found = d.find_elements(By.ID, element_id)
        return (found[0].text or " ") if found else None

    return wait_for(f"{element_id} on {path_part}", ready, timeout, 0.1)


def images_loaded(d):
    imgs = d.find_elements(By.CSS_SELECTOR, ".pages img, ul.inbox img")
    assert imgs, "no page images"
    return all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i) for i in imgs)


def login(d):
    d.set_window_size(*SIZES["desktop"])
    d.get(BASE + "/login")
    d.find_element(By.ID, "username").send_keys(USER)
    d.find_element(By.ID, "password").send_keys(PASSWORD + "\n")
    wait_for("the outbox after login", lambda: d.current_url.endswith("/outbox"), 30, 0.2)


def totp_code(key, at):
    """The 6-digit RFC 6238 code (HMAC-SHA1, 30 s) of base32 `key` at time `at`."""
    clean = key.replace(" ", "")
    secret = base64.b32decode(clean + "=" * (-len(clean) % 8))
    mac = hmac.new(secret, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def text_of(d, element_id):
    """The text of the element, or "" while the page it was on is being replaced."""
    try:
        found = d.find_elements(By.ID, element_id)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def two_step():
    d = driver()
    shots = []
    try:
        login(d)
        d.get(BASE + "/account")
        assert d.find_element(By.ID, "totp-state").text.startswith("Off"), d.page_source
        d.find_element(By.XPATH, "//form[@action='/account/totp']//button").click()
        key = wait_for("the key", lambda: d.find_elements(By.ID, "totp-secret"), 10, 0.2)[0].text
        uri = d.find_element(By.ID, "totp-uri").get_attribute("value")
        assert uri.startswith("otpauth://totp/Faxline:" + USER + "?"), uri
        for size in SIZES:
            shots.append(shot(d, "account-setup", size))
        d.set_window_size(*SIZES["desktop"])
        now = time.time()
        d.find_element(By.ID, "confirm-code").send_keys(totp_code(key, now) + "\n")
        wait_for("two-step login on", lambda: text_of(d, "totp-state").startswith("On since"), 10, 0.2)
        d.find_element(By.XPATH, "//form[@action='/logout']//button").click()
        wait_for("the login page after logout", lambda: "/login" in d.current_url, 10, 0.2)
        d.get(BASE + "/login")
        d.find_element(By.ID, "username").send_keys(USER)
        d.find_element(By.ID, "password").send_keys(PASSWORD + "\n")
        wait_for("the code page", lambda: d.find_elements(By.ID, "code"), 30, 0.2)
        for size in SIZES:
            shots.append(shot(d, "login-code", size))
        d.set_window_size(*SIZES["desktop"])
        # The code that confirmed set up is used; the app's next one is within the accepted drift.
        d.find_element(By.ID, "code").send_keys(totp_code(key, now + 30) + "\n")
        wait_for("the outbox after the code", lambda: d.current_url.endswith("/outbox"), 30, 0.2)
        print(json.dumps({"two_step": "on", "screens": shots}))
    finally:
        d.quit()


def bulk_start():
    d = driver()
    try:
        login(d)
        d.get(BASE + "/bulk")
        d.find_element(By.ID, "csv").send_keys(os.path.abspath(ARG))
        d.find_element(By.ID, "file").send_keys(os.path.abspath(PDF))
        d.find_element(By.CSS_SELECTOR, "form[action='/bulk'] button[type=submit]").click()
        # The preview first: nothing is sent until it is confirmed.
        state = on_page(d, "/bulk/", "batch-state", 120)
        assert state == "draft", state
        shots = [shot(d, "bulk-confirm", size) for size in SIZES]
        d.set_window_size(*SIZES["desktop"])
        d.find_element(By.ID, "confirm").click()
        wait_for("the confirmed bulk send", lambda: text_of(d, "batch-state") in ("running", "done"), 120, 0.1)
        print(json.dumps({"batch_url": d.current_url, "screens": shots}))
    finally:
        d.quit()


def bulk_finish():
    d = driver()
    shots = []
    try:
        login(d)

        def done():
            d.get(ARG)
            return text_of(d, "batch-state") == "done" and text_of(d, "batch-done") == "20"

        wait_for("the bulk send to finish", done, 400, 2)
        for size in SIZES:
            d.get(ARG)
            shots.append(shot(d, "batch", size))
            d.get(BASE + "/bulk")
            shots.append(shot(d, "bulk", size))
        print(json.dumps({"state": "done", "screens": shots}))
    finally:
        d.quit()


def main():
    if MODE == "bulk-start":
        return bulk_start()
    if MODE == "bulk-finish":
        return bulk_finish()
    if MODE == "two-step":
        return two_step()
    os.makedirs(SHOTS, exist_ok=True)
    d = driver()
    seen = {"screens": []}
    pages = {}
    try:
        d.set_window_size(*SIZES["desktop"])
        d.get(BASE + "/")
        assert "/login" in d.current_url, d.current_url
        pages["login"] = d.current_url
        for size in SIZES:
            seen["screens"].append(shot(d, "login", size))
        d.set_window_size(*SIZES["desktop"])
        # Keyboard only: type, tab, type, Enter.
        user = d.find_element(By.ID, "username")
        user.send_keys(USER)
        d.find_element(By.ID, "password").send_keys(PASSWORD + "\n")
        wait_for("the outbox after login", lambda: d.current_url.endswith("/outbox"), 30, 0.2)

        d.get(BASE + "/send")
        # A draft that is discarded: nothing queued, back on the Send page.
        d.find_element(By.ID, "to").send_keys("+15557770000")
        d.find_element(By.ID, "text").send_keys("A draft that will be discarded.")
        d.find_element(By.ID, "preview").click()
        on_page(d, "/drafts/", "draft-pages", 120)
        d.find_element(By.ID, "discard").click()
        on_page(d, "/send?discarded=1", "to", 30)
        assert "nothing was sent" in d.page_source
        pages["send"] = BASE + "/send"
        d.find_element(By.ID, "to").send_keys("+15551234567")
        # Two files in one input (Selenium takes several paths separated by newlines), then a cover.
        second = os.path.join(SHOTS, "part-two.txt")
        os.makedirs(SHOTS, exist_ok=True)
        with open(second, "w") as f:
            f.write("Part two of the fax: a short typed letter.\n")
        d.find_element(By.ID, "file").send_keys(os.path.abspath(PDF) + "\n" + os.path.abspath(second))
        d.find_element(By.ID, "cover_from").send_keys("Front desk")
        d.find_element(By.ID, "cover_to").send_keys("Riverside Clinic")
        d.find_element(By.ID, "cover_subject").send_keys("Referral")
        d.find_element(By.ID, "cover_note").send_keys("Two documents follow.")
        d.find_element(By.ID, "preview").click()
        # Nothing is sent yet: the draft shows every page exactly as it will be faxed.
        draft_pages = on_page(d, "/drafts/", "draft-pages", 120)
        assert draft_pages == "3", draft_pages
        assert "+15551234567" in text_of(d, "draft-numbers")
        wait_for("the draft's page previews", lambda: images_loaded(d), 60, 0.2)
        previews = d.find_elements(By.CSS_SELECTOR, "#draft-previews img")
        assert len(previews) == 3, len(previews)
        seen["draft_url"] = d.current_url
        seen["draft_preview_widths"] = [d.execute_script("return arguments[0].naturalWidth", i) for i in previews]
        for size in SIZES:
            d.execute_script("window.scrollTo(0, 0)")
            seen["screens"].append(shot(d, "draft", size))
            # And the previews themselves, scrolled into view.
            d.execute_script("document.getElementById('draft-previews').scrollIntoView()")
            seen["screens"].append(shot(d, "draft-pages", size))
        d.execute_script("window.scrollTo(0, 0)")
        d.set_window_size(*SIZES["desktop"])
        d.find_element(By.ID, "send").click()
        on_page(d, "/outbox?sent=1", "outbox-notice", 60)
        assert "1 fax(es) queued" in d.page_source
        # The sent draft cannot be sent again: its page now leads to the outbox.
        d.get(seen["draft_url"])
        on_page(d, "/outbox?sent=1", "outbox-notice", 30)
        pages["outbox"] = BASE + "/outbox"
        d.find_element(By.CSS_SELECTOR, "table.list tbody a").click()
        job_url = d.current_url
        pages["job"] = job_url

        def status():
            d.get(job_url)
            s = d.find_element(By.ID, "job-status").text
            assert s not in ("FAILED", "failed", "cancelled"), f"the fax ended {s}"
            return s == "SUCCESS"

        wait_for("SUCCESS", status, 240, 2)
        seen["job_status"] = "SUCCESS"
        wait_for("the previews", lambda: images_loaded(d), 30, 0.5)

        def received():
            d.get(BASE + "/inbox")
            links = d.find_elements(By.CSS_SELECTOR, "ul.inbox li a")
            return links[0].get_attribute("href") if links else None

        fax_url = wait_for("the received fax in the inbox", received, 120, 2)
        assert "1 unread" in d.page_source, d.page_source
        wait_for("the thumbnails", lambda: images_loaded(d), 30, 0.5)
        pages["inbox"] = BASE + "/inbox"
        d.get(fax_url)
        pages["fax"] = fax_url
        wait_for("the received pages", lambda: images_loaded(d), 30, 0.5)
        d.find_element(By.ID, "mark-read").click()
        wait_for("the mark", lambda: d.find_elements(By.ID, "mark-unread"), 10, 0.2)
        d.get(BASE + "/inbox")
        assert "0 unread" in d.page_source
        seen["download_href"] = d.execute_script("return location.origin") + "/inbox/" + fax_url.rsplit("/", 1)[1] + "/pdf"

        pages["users"] = BASE + "/users"
        pages["keys"] = BASE + "/settings/keys"
        pages["system"] = BASE + "/settings/system"
        for name in ("send", "outbox", "job", "inbox", "fax", "users", "keys", "system"):
            for size in SIZES:
                d.get(pages[name])
                if name in ("job", "inbox", "fax"):
                    wait_for(f"images of {name}", lambda: images_loaded(d), 30, 0.3)
                seen["screens"].append(shot(d, name, size))

        d.set_window_size(*SIZES["desktop"])
        d.find_element(By.XPATH, "//form[@action='/logout']//button").click()
        wait_for("the login page after logout", lambda: "/login" in d.current_url, 10, 0.2)
        d.get(BASE + "/outbox")
        assert "/login" in d.current_url, "logged out"
        seen["job_url"] = job_url
        seen["fax_url"] = fax_url
    finally:
        d.quit()
    print(json.dumps(seen))


main()
