// The upload page: validate a CSV file, upload it, follow the job, review and activate.
// It calls only this service's API, so the page works offline.
"use strict";

const API = "/api/v1/hospitals";
const API_KEY_STORAGE = "hospital-bulk-api-key";
const POLL_MS = 500;
const POLL_RETRY_MS = 2000;
const ROWS_PAGE = 200;
const FINAL_JOB_STATUSES = ["completed", "failed"];
const DELIMITER_NAMES = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe" };

const state = {
  file: null,
  // One key per chosen file, so that submitting again after a network error cannot
  // create a second job.
  idempotencyKey: null,
  report: null,
  jobId: null,
  job: null,
  rowsShown: 0,
  pollTimer: null,
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

// --- Requests ------------------------------------------------------------------------

function apiKey() {
  return sessionStorage.getItem(API_KEY_STORAGE) || "";
}

function authHeaders(extra) {
  const headers = new Headers(extra || {});
  if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
  return headers;
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
  } catch (err) {
    throw new ApiError({
      title: "Service unreachable",
      detail: `The request to the service failed: ${err.message}.`,
      fix: "Check that `hospital-bulk serve` is running, then try again.",
    }, 0);
  }
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `The service answered HTTP ${response.status} ${response.statusText}.` };
    }
    throw new ApiError(problem, response.status);
  }
  return response;
}

async function requestJson(path, options) {
  const response = await request(path, options);
  return response.json();
}

function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a page served over plain HTTP on another host is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- Small DOM helpers ---------------------------------------------------------------

function show(element, visible = true) {
  element.hidden = !visible;
}

function cell(text, tag = "td") {
  const element = document.createElement(tag);
  element.textContent = text == null ? "" : String(text);
  return element;
}

function fillTable(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells.map((value) => (value instanceof Node ? value : cell(value))));
    return tr;
  }));
}

function statusBadge(status) {
  const span = document.createElement("span");
  span.className = `badge badge-${status}`;
  span.textContent = status;
  const td = document.createElement("td");
  td.append(span);
  return td;
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function showError(error) {
  const problem = error instanceof ApiError ? error.problem : { detail: String(error) };
  const box = $("error");
  const title = document.createElement("strong");
  title.textContent = problem.title || "Error";
  const detail = document.createElement("p");
  detail.textContent = problem.detail || "";
  box.replaceChildren(title, detail);
  if (problem.fix) {
    const fix = document.createElement("p");
    fix.textContent = `What to do: ${problem.fix}`;
    box.append(fix);
  }
  show(box);
}

function clearError() {
  show($("error"), false);
  $("error").replaceChildren();
}

// --- Step 1 and 2: choose and validate -------------------------------------------------

function columnMapping() {
  const mapping = {};
  for (const field of ["name", "address", "phone"]) {
    const header = $(`map-${field}`).value.trim();
    if (header) mapping[field] = header;
  }
  return Object.keys(mapping).length ? JSON.stringify(mapping) : null;
}

function uploadForm() {
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  const mapping = columnMapping();
  if (mapping) form.append("column_mapping", mapping);
  return form;
}

function chooseFile(file) {
  if (!file) return;
  state.file = file;
  state.idempotencyKey = newIdempotencyKey();
  $("chosen-file").textContent = `Chosen: ${file.name} (${file.size.toLocaleString()} bytes)`;
  validateFile();
}

async function validateFile() {
  if (!state.file) return;
  clearError();
  state.report = null;
  $("submit").disabled = true;
  show($("preview-section"), false);
  try {
    const report = await requestJson(`${API}/bulk/validate`, { method: "POST", body: uploadForm() });
    state.report = report;
    renderPreview(report);
  } catch (error) {
    showError(error);
  }
}

function renderPreview(report) {
  const facts = [
    ["File", report.filename],
    ["Encoding", report.encoding],
    ["Delimiter", DELIMITER_NAMES[report.delimiter] || JSON.stringify(report.delimiter)],
    ["Rows", `${report.total_rows} (${report.valid_rows} valid, ${report.invalid_rows} with errors, `
      + `${report.rows_with_warnings} with warnings)`],
  ];
  $("file-facts").replaceChildren(...facts.flatMap(([term, value]) => [cell(term, "dt"), cell(value, "dd")]));

  fillTable($("mapping-table"), Object.entries(report.mapping).map(
    ([field, columns]) => [field, columns.length ? columns.join(" + ") : "(none)"],
  ));
  $("ignored-columns").textContent = `Ignored columns: ${report.ignored_columns.join(", ")}`;
  show($("ignored-columns"), report.ignored_columns.length > 0);
  $("file-warnings").replaceChildren(...report.warnings.map((text) => cell(text, "li")));
  show($("file-warnings"), report.warnings.length > 0);

  const problems = report.rows.flatMap((row) => [
    ...row.errors.map((text) => [row.row, row.name, `Error: ${text}`]),
    ...row.warnings.map((text) => [row.row, row.name, `Warning: ${text}`]),
  ]);
  fillTable($("problems-table"), problems);
  show($("problems-table"), problems.length > 0);
  fillTable($("preview-table"), report.preview.map((row) => [
    row.row, row.name, row.address, row.phone, row.errors.length ? "error" : "ok",
  ]));

  const submit = $("submit");
  submit.textContent = `Upload ${plural(report.total_rows, "row")}`;
  submit.disabled = report.valid_rows === 0;
  $("submit-note").textContent = report.valid_rows === 0
    ? "No row is valid, so there is nothing to create. Fix the file and choose it again."
    : report.invalid_rows > 0
      ? `${plural(report.invalid_rows, "row")} with errors will be marked failed and not sent; `
        + "the batch will then wait for you to review and activate it."
      : "Every row is valid. When all are created, the batch is activated automatically.";
  show($("preview-section"));
  $("preview-heading").focus();
}

// --- Step 3: upload and follow progress ------------------------------------------------

async function submitUpload() {
  if (!state.file || !state.report) return;
  clearError();
  const submit = $("submit");
  submit.disabled = true;
  try {
    const accepted = await requestJson(`${API}/bulk`, {
      method: "POST",
      body: uploadForm(),
      headers: { "Idempotency-Key": state.idempotencyKey },
    });
    submit.textContent = "Uploaded";
    openJob(accepted.job_id);
  } catch (error) {
    showError(error);
    submit.disabled = false;
  }
}

function openJob(jobId) {
  clearTimeout(state.pollTimer);
  state.jobId = jobId;
  state.job = null;
  if (location.hash !== `#job=${jobId}`) history.replaceState(null, "", `#job=${jobId}`);
  show($("results-section"), false);
  $("activation-message").textContent = "";
  $("progress").value = 0;
  $("progress-text").textContent = "Waiting for the job to start…";
  $("job-ids").textContent = `Job ${jobId}`;
  show($("progress-section"));
  poll(jobId);
}

async function poll(jobId) {
  if (jobId !== state.jobId) return;
  let job;
  try {
    job = await requestJson(`${API}/status/${encodeURIComponent(jobId)}?limit=0`);
  } catch (error) {
    showError(error);
    if (error.status === 404 || error.status === 401) return;
    // Keep polling through network errors, so that the final state is never missed.
    state.pollTimer = setTimeout(() => poll(jobId), POLL_RETRY_MS);
    return;
  }
  clearError();
  renderProgress(job);
  if (FINAL_JOB_STATUSES.includes(job.status)) {
    await loadResults({ focus: true });
    loadJobs();
  } else {
    state.pollTimer = setTimeout(() => poll(jobId), POLL_MS);
  }
}

function renderProgress(job) {
  const result = job.result;
  const done = result.total_hospitals - result.pending_hospitals;
  const progress = $("progress");
  progress.value = job.progress_percentage;
  const text = FINAL_JOB_STATUSES.includes(job.status)
    ? `Finished: ${done} of ${plural(result.total_hospitals, "row")} done (${job.progress_percentage}%).`
    : `Processing: ${done} of ${plural(result.total_hospitals, "row")} done (${job.progress_percentage}%).`;
  // Only a changed text is written, so that screen readers announce changes, not every poll.
  if ($("progress-text").textContent !== text) $("progress-text").textContent = text;
  $("job-ids").textContent = `Job ${job.job_id} · batch ${result.batch_id} · file ${job.filename}`;
}

// --- Step 4: results, filter, export and activation -----------------------------------

function statusQuery(offset) {
  const params = new URLSearchParams({ offset: String(offset), limit: String(ROWS_PAGE) });
  const filter = $("status-filter").value;
  if (filter) params.set("status", filter);
  return params;
}

async function loadResults({ focus = false } = {}) {
  const jobId = state.jobId;
  let job;
  try {
    job = await requestJson(`${API}/status/${encodeURIComponent(jobId)}?${statusQuery(0)}`);
  } catch (error) {
    showError(error);
    return;
  }
  if (jobId !== state.jobId) return;
  state.job = job;
  state.rowsShown = 0;
  renderProgress(job);
  renderSummary(job);
  appendRows(job, { replace: true });
  show($("results-section"));
  if (focus) $("results-heading").focus();
}

async function loadMoreRows() {
  const job = state.job;
  try {
    const page = await requestJson(
      `${API}/status/${encodeURIComponent(job.job_id)}?${statusQuery(state.rowsShown)}`,
    );
    appendRows(page, { replace: false });
  } catch (error) {
    showError(error);
  }
}

function appendRows(job, { replace }) {
  const rows = job.result.hospitals.map((row) => [
    row.row, row.name, statusBadge(row.status), row.hospital_id, row.error_message,
  ].map((value) => (value instanceof Node ? value : cell(value))));
  const body = $("rows-table").tBodies[0];
  const trs = rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  });
  if (replace) body.replaceChildren(...trs);
  else body.append(...trs);
  state.rowsShown += rows.length;
  const filter = $("status-filter").value;
  $("rows-caption").textContent = filter
    ? `Rows with status ${filter}: ${state.rowsShown} shown`
    : `All rows: ${state.rowsShown} of ${job.result.total_hospitals} shown`;
  // A short page is the last one, whatever next_offset is, so the page stops even if a
  // service version computes next_offset wrongly for a status filter.
  const fullPage = job.result.hospitals.length === ROWS_PAGE;
  show($("more-rows"), fullPage && job.result.hospitals_page.next_offset != null);
}

function renderSummary(job) {
  const result = job.result;
  const created = result.processed_hospitals;
  const failed = result.failed_hospitals;
  let text;
  if (job.status === "failed") {
    text = `The job failed: ${job.error || "no reason was recorded"}.`;
  } else if (job.status !== "completed") {
    text = `The job is ${job.status}.`;
  } else if (result.batch_activated && failed > 0) {
    text = `${plural(created, "hospital")} created and activated. ${plural(failed, "row")} failed `
      + "and not part of the batch: download the failed rows to fix them and upload them again.";
  } else if (result.batch_activated) {
    text = `Done: ${plural(created, "hospital")} created and activated. Nothing else to do.`;
  } else if (created === 0) {
    text = `All ${plural(failed, "row")} failed, so nothing was created and there is nothing to `
      + "activate. Download the failed rows, fix them and upload them again.";
  } else if (failed > 0) {
    text = `${plural(created, "hospital")} created, ${failed} failed. The batch is not active: `
      + "review the failed rows, then activate the batch or fix the rows and upload them again.";
  } else {
    text = `${plural(created, "hospital")} created, but the activation failed`
      + `${result.activation_error ? `: ${result.activation_error}` : ""}. Nothing was rolled back; `
      + "activate the batch to try again.";
  }
  $("summary").textContent = text;

  const base = `${API}/status/${encodeURIComponent(job.job_id)}/rows.csv`;
  $("download-failed").href = `${base}?status=failed`;
  $("download-all").href = base;
  show($("download-failed"), failed > 0);
  show($("activate"), job.status === "completed" && !result.batch_activated && created > 0);
  $("activate").disabled = false;
}

async function activateBatch() {
  const result = state.job.result;
  const failed = result.failed_hospitals;
  const created = result.processed_hospitals;
  if (failed > 0) {
    const question = `${plural(failed, "row")} failed and will not be part of the batch. `
      + `Activate the ${plural(created, "created hospital")} anyway?`;
    if (!window.confirm(question)) return;
  }
  clearError();
  $("activate").disabled = true;
  $("activation-message").textContent = "Activating…";
  try {
    const body = await requestJson(
      `${API}/bulk/batch/${encodeURIComponent(result.batch_id)}/activate`, { method: "PATCH" },
    );
    await loadResults();
    $("activation-message").textContent = body.message;
    loadJobs();
  } catch (error) {
    $("activation-message").textContent = "";
    $("activate").disabled = false;
    showError(error);
  }
}

// A plain link cannot send the API key, so with a key the file is fetched and saved from memory.
async function downloadWithKey(event) {
  if (!apiKey()) return;
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const response = await request(link.href);
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await response.blob());
    const anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = match ? match[1] : "rows.csv";
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    showError(error);
  }
}

// --- Recent jobs -----------------------------------------------------------------------

async function loadJobs() {
  let jobs;
  try {
    jobs = await requestJson(`${API}/jobs?limit=20`);
  } catch (error) {
    // The list is secondary: a missing API key is reported by the steps above.
    show($("jobs-table"), false);
    $("jobs-empty").textContent = `The job list could not be loaded: ${error.message}`;
    show($("jobs-empty"));
    return;
  }
  fillTable($("jobs-table"), jobs.map((job) => {
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Open";
    open.setAttribute("aria-label", `Open job ${job.filename} from ${job.created_at}`);
    open.addEventListener("click", () => openJob(job.job_id));
    const openCell = document.createElement("td");
    openCell.append(open);
    return [job.filename, statusBadge(job.status), job.total_hospitals,
      job.batch_activated ? "yes" : "no", new Date(job.created_at).toLocaleString(), openCell];
  }));
  $("jobs-empty").textContent = "No jobs yet.";
  show($("jobs-empty"), jobs.length === 0);
  show($("jobs-table"), jobs.length > 0);
}

// --- Wiring ----------------------------------------------------------------------------

function setUpDropZone() {
  const zone = $("drop-zone");
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (!files || files.length === 0) return;
    try {
      $("file-input").files = files;
    } catch {
      // Some browsers do not let a script set the input's files; the upload does not need it.
    }
    chooseFile(files[0]);
  });
}

function setUpApiKey() {
  const input = $("api-key");
  input.value = apiKey();
  if (input.value) $("access-options").open = true;
  input.addEventListener("change", () => {
    const key = input.value.trim();
    if (key) sessionStorage.setItem(API_KEY_STORAGE, key);
    else sessionStorage.removeItem(API_KEY_STORAGE);
    // Repeat what a missing or wrong key may have stopped.
    if (state.jobId) openJob(state.jobId);
    else if (state.file) validateFile();
    loadJobs();
  });
}

function openJobFromHash() {
  const match = /^#job=([\w-]+)$/.exec(location.hash);
  if (match && match[1] !== state.jobId) openJob(match[1]);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpApiKey();
  setUpDropZone();
  $("file-input").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  $("recheck").addEventListener("click", validateFile);
  $("submit").addEventListener("click", submitUpload);
  $("activate").addEventListener("click", activateBatch);
  $("status-filter").addEventListener("change", () => loadResults());
  $("more-rows").addEventListener("click", loadMoreRows);
  $("refresh-jobs").addEventListener("click", loadJobs);
  $("download-failed").addEventListener("click", downloadWithKey);
  $("download-all").addEventListener("click", downloadWithKey);
  window.addEventListener("hashchange", openJobFromHash);
  openJobFromHash();
  loadJobs();
});
