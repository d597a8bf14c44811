"""The upload page in headless Chromium against the running service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.support import TEST3

Screenshot = Callable[[str], Path]

TEST3_FILE = {"name": "test3.csv", "mimeType": "text/csv", "buffer": TEST3}


def track_requests(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def wait_for_results(page: Page) -> None:
    expect(page.locator("#progress-text")).to_contain_text("100%")
    expect(page.locator("#results-section")).to_be_visible()


@pytest.mark.browser
def test_partial_batch_review_and_activate(api: str, page: Page, screenshot: Screenshot) -> None:
    """The design's Test 3: preview, upload, progress to 100%, failed row 2, confirm, activate."""
    requests = track_requests(page)
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.goto(f"{api}/")
    expect(page.get_by_label("CSV file", exact=True)).to_be_visible()

    # Given the file is chosen, the preview shows what the upload would read.
    page.get_by_label("CSV file", exact=True).set_input_files(files=[TEST3_FILE])
    preview = page.locator("#preview-section")
    expect(preview).to_be_visible()
    expect(page.locator("#file-facts")).to_contain_text("utf-8")
    expect(page.locator("#file-facts")).to_contain_text("comma")
    expect(page.locator("#mapping-table")).to_contain_text("address")
    expect(page.locator("#problems-table")).to_contain_text('Row 2, column "name": the value is empty')
    expect(page.locator("#submit")).to_have_text("Upload 3 rows")
    screenshot("preview")

    # When it is submitted, progress reaches 100% and row 2 is the failed one.
    page.locator("#submit").click()
    wait_for_results(page)
    expect(page.locator("#progress")).to_have_js_property("value", 100)
    screenshot("progress")
    rows = page.locator("#rows-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("failed")
    expect(rows.nth(1)).to_contain_text("Row 2")
    expect(page.locator("#summary")).to_contain_text("2 hospitals created, 1 failed")
    expect(page.locator("#download-failed")).to_be_visible()
    expect(page.locator("#activate")).to_be_visible()
    screenshot("failed-row")

    # Then activating after the confirmation turns both created rows active.
    page.locator("#activate").click()
    expect(page.locator("#rows-table .badge-created_and_activated")).to_have_count(2)
    expect(page.locator("#activate")).to_be_hidden()
    expect(page.locator("#activation-message")).to_contain_text("is active: 2 hospital(s)")
    expect(page.locator("#summary")).to_contain_text("created and activated")
    screenshot("activated")

    assert dialogs == ["1 row failed and will not be part of the batch. "
                       "Activate the 2 created hospitals anyway?"]
    assert [url for url in requests if not url.startswith(api)] == []


@pytest.mark.browser
def test_activation_cancelled_keeps_batch(api: str, page: Page, screenshot: Screenshot) -> None:
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.goto(f"{api}/")
    page.get_by_label("CSV file", exact=True).set_input_files(files=[TEST3_FILE])
    page.locator("#submit").click()
    wait_for_results(page)

    page.locator("#activate").click()
    screenshot("cancelled")

    expect(page.locator("#activate")).to_be_visible()
    expect(page.locator("#rows-table .badge-created")).to_have_count(2)
    job_id = page.evaluate("location.hash").removeprefix("#job=")
    status = httpx.get(f"{api}/api/v1/hospitals/status/{job_id}").json()
    assert status["result"]["batch_activated"] is False


@pytest.mark.browser
def test_drop_filter_and_download(api: str, page: Page, screenshot: Screenshot) -> None:
    """A dropped file uploads; the filter narrows the table; the failed rows download as CSV."""
    page.goto(f"{api}/")
    dropped = page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
            return transfer;
        }""",
        TEST3.decode(),
    )
    page.locator("#drop-zone").dispatch_event("drop", {"dataTransfer": dropped})
    expect(page.locator("#chosen-file")).to_contain_text("dropped.csv")
    expect(page.locator("#preview-section")).to_be_visible()
    page.locator("#submit").click()
    wait_for_results(page)

    page.get_by_label("Show rows").select_option("failed")
    expect(page.locator("#rows-table tbody tr")).to_have_count(1)
    expect(page.locator("#rows-caption")).to_contain_text("status failed")
    expect(page.locator("#more-rows")).to_be_hidden()
    screenshot("filtered")
    with page.expect_download() as download_info:
        page.locator("#download-failed").click()
    download = download_info.value
    content = Path(download.path()).read_text(encoding="utf-8-sig")

    assert download.suggested_filename == "dropped-failed.csv"
    assert content.splitlines()[0] == "name,address,phone,row,status,hospital_id,error_message"
    assert ",Invalid Missing Name,555-0002,2,failed," in content
    assert len(content.splitlines()) == 2


@pytest.mark.browser
def test_keyboard_only_upload(api: str, page: Page) -> None:
    """The file chooser, the submit button and the filter all work from the keyboard."""
    page.goto(f"{api}/")
    file_input = page.get_by_label("CSV file", exact=True)
    file_input.focus()
    expect(file_input).to_be_focused()
    # Opening the native file dialog with Space is the browser's own behaviour, and headless
    # Chromium does not always report it under load, so the file is set directly.
    file_input.set_input_files(files=[TEST3_FILE])
    expect(page.locator("#preview-heading")).to_be_focused()

    page.locator("#submit").focus()
    page.keyboard.press("Enter")
    wait_for_results(page)
    expect(page.locator("#results-heading")).to_be_focused()
    page.get_by_label("Show rows").focus()
    page.keyboard.press("ArrowDown")

    expect(page.locator("#rows-table tbody tr")).to_have_count(1)


@pytest.mark.browser
def test_file_error_shows_detail_and_fix(api: str, page: Page, screenshot: Screenshot) -> None:
    page.goto(f"{api}/")

    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "notes.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}]
    )

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("no column named like a hospital name")
    expect(alert).to_contain_text('What to do: Add the header line "name,address,phone"')
    expect(page.locator("#preview-section")).to_be_hidden()
    screenshot("file-error")


@pytest.mark.browser
def test_column_mapping_fields(api: str, page: Page) -> None:
    page.goto(f"{api}/")
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "odd.csv", "mimeType": "text/csv", "buffer": b"Title,Where\nA Hospital,1 Main St\n"}]
    )
    expect(page.get_by_role("alert")).to_be_visible()

    page.locator("#mapping-options summary").click()
    page.get_by_label("Name column").fill("Title")
    page.get_by_label("Address column").fill("Where")
    page.get_by_role("button", name="Check the file again").click()

    expect(page.locator("#preview-section")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.locator("#mapping-table")).to_contain_text("Title")


@pytest.mark.browser
def test_api_key_field(start_service: Callable[..., str], page: Page, screenshot: Screenshot) -> None:
    """Without the key the page shows the 401; with it, upload and download work."""
    api = start_service(api_keys=["page-key"])
    page.goto(f"{api}/")
    page.get_by_label("CSV file", exact=True).set_input_files(files=[TEST3_FILE])
    expect(page.get_by_role("alert")).to_contain_text("A valid API key is required")

    page.locator("#access-options summary").click()
    page.get_by_label("API key", exact=True).fill("page-key")
    page.get_by_label("API key", exact=True).press("Tab")
    expect(page.locator("#preview-section")).to_be_visible()
    page.locator("#submit").click()
    wait_for_results(page)
    screenshot("with-key")
    with page.expect_download() as download_info:
        page.locator("#download-failed").click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    stored = page.evaluate("sessionStorage.getItem('hospital-bulk-api-key')")

    assert stored == "page-key"
    assert ",2,failed," in content


def test_page_served_offline_ready(api: str) -> None:
    """The page and its assets come from the package, under a policy that allows only this origin."""
    page = httpx.get(f"{api}/")
    script = httpx.get(f"{api}/static/app.js")
    style = httpx.get(f"{api}/static/app.css")

    assert page.status_code == 200
    assert 'type="file"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace(f"{api}", "")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert "http://" not in style.text
    assert "https://" not in style.text
