// The upload page: drop or choose files; each is sent with XMLHttpRequest (fetch cannot
// report upload progress), then followed deriver by deriver until ready or failed.
import { activityResult, followRecent } from "./outcome.js";
import { renderProgress, watch } from "./poll.js";

const form = document.getElementById("upload-form");
const input = document.getElementById("file");
const zone = document.getElementById("drop-zone");
const list = document.getElementById("upload-list");
const rowTemplate = document.getElementById("upload-row");
const csrfToken = form.querySelector("[name=csrfmiddlewaretoken]").value;
// Files from this size on are sent resumably (tus, the vendored tus-js-client): chunk by
// chunk, each stored before it is acknowledged, resumed where it stopped after a drop.
const TUS_FROM = Number(form.dataset.tusThreshold) || Infinity;
const TUS_CHUNK = 2 ** 20;

// Two at a time: a folder of files should not open dozens of connections at once.
const PARALLEL = 2;
// A 429 (rate limit, or workers busy) is retried after Retry-After, this many times.
const MAX_RETRIES = 3;
const waiting = [];
let sending = 0;

class Row {
  constructor(file) {
    const node = rowTemplate.content.firstElementChild.cloneNode(true);
    this.node = node;
    this.status = node.querySelector(".upload-status");
    this.bar = node.querySelector(".upload-progress");
    this.derivers = node.querySelector(".derivers");
    this.error = node.querySelector(".upload-error");
    this.note = node.querySelector(".upload-note");
    this.link = node.querySelector(".activity-link");
    node.querySelector(".file-name").textContent = file.name;
    this.bar.setAttribute("aria-label", `Upload of ${file.name}`);
    this.setStatus("waiting to send");
    list.prepend(node);
    list.closest("section").hidden = false;
  }

  setStatus(text, kind = "") {
    this.status.textContent = text;
    this.status.className = `badge upload-status ${kind ? `status-${kind}` : ""}`;
    this.node.dataset.status = kind || text;
  }

  sent(loaded, total) {
    this.bar.max = total;
    this.bar.value = loaded;
    const percent = total ? Math.floor((100 * loaded) / total) : 100;
    this.setStatus(`uploading ${percent}%`);
  }

  say(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
    this.setStatus("failed", "failed");
  }

  show(upload) {
    this.node.dataset.uploadId = upload.id;
    if (upload.kind === "session") {  // the bytes are in; the sweep has yet to take them
      this.setStatus(upload.status, upload.status === "failed" ? "failed" : "uploaded");
      if (upload.status === "failed") this.fail(upload.problem || "The upload failed.");
      else this.say("Received: the server is taking the file in.");
      return;
    }
    this.setStatus(upload.status, upload.status);
    this.say(this.again && upload.kind !== "archive" ? "Already uploaded —" : "");
    if (upload.kind === "archive") this.showArchive(upload);
    else this.showFile(upload);
    if (upload.status === "failed") this.fail(upload.problem || "Processing failed.");
  }

  showFile(upload) {
    if (upload.status === "ready") {
      // Done: what the activity is, not the steps it took.
      this.derivers.hidden = true;
      if (!this.again) activityResult(upload.activity_id).then((text) => this.say(text));
    } else {
      renderProgress(this.derivers, upload.progress, { failed: upload.status === "failed" });
    }
    this.link.href = `/activities/${upload.activity_id}/`;
    const reprocessable = !["NotAnActivity", "NotAnActivityFile", "UnsupportedFile"]
      .includes(upload.error_code);  // activities/problems.py's NOT_ACTIVITIES
    this.link.textContent = this.again ? "open it"
      : upload.status === "failed" && reprocessable
        ? "Open the activity to reprocess it" : "Open the activity";
    this.link.hidden = false;
  }

  // A zip of activity files: what became of its files so far; its page lists them.
  showArchive(upload) {
    const outcome = archiveOutcome(upload.progress, upload.status === "ready");
    this.say(this.again ? `Already uploaded. ${outcome}` : outcome);
    this.link.href = `/uploads/${upload.id}/`;
    this.link.textContent = "See its files";
    this.link.hidden = false;
  }
}

// activities/display.py's archive_outcome, word for word.
function archiveOutcome(progress, finished) {
  const n = (key) => progress[key] || 0;
  const count = (k, noun) => `${k} ${noun}${k === 1 ? "" : "s"}`;
  const others = n("skipped") ? `; ${count(n("skipped"), "other file")} skipped` : "";
  if (finished && n("duplicate") && !n("imported") && !n("failed") && !n("missing")) {
    if (n("duplicate") === 1) return `Its activity was already uploaded${others}.`;
    return `${n("duplicate")} files, all already uploaded${others}.`;
  }
  const parts = [[n("imported"), "imported"], [n("duplicate"), "already uploaded"],
                 [n("skipped"), "not activities, skipped"], [n("failed"), "could not be read"],
                 [n("missing"), "missing from the archive"]]
    .filter(([k]) => k).map(([k, words]) => `${k} ${words}`);
  const files = progress.files ?? null;
  const head = finished ? count(files ?? n("seen"), "file")
    : `${n("seen")} of ${files ?? "?"} files read`;
  return parts.length ? `${head}: ${parts.join(", ")}.` : `${head}.`;
}

function refusal(xhr) {
  const message = xhr.response?.error?.message;
  if (message) return message;
  if (xhr.status === 413) return "The file is larger than the upload limit.";
  return `The server refused the upload (HTTP ${xhr.status}).`;
}

function send(row, file, attempt = 0) {
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/uploads");
  xhr.responseType = "json";
  xhr.setRequestHeader("X-CSRFToken", csrfToken);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) row.sent(event.loaded, event.total);
  };
  xhr.onload = () => {
    if (xhr.status === 202) {
      row.sent(row.bar.max || 1, row.bar.max || 1);
      accepted(row, xhr.response);
    } else if (xhr.status === 429 && attempt < MAX_RETRIES) {
      const seconds = Number(xhr.getResponseHeader("Retry-After")) || 5;
      row.say(`${refusal(xhr)} Trying again in ${seconds} s.`);
      setTimeout(() => send(row, file, attempt + 1), seconds * 1000);
      return;
    } else {
      row.fail(refusal(xhr));
    }
    finished();
  };
  xhr.onerror = () => {
    row.fail("The upload did not reach the server: check the connection and try again.");
    finished();
  };
  const body = new FormData();
  body.append("file", file);
  xhr.send(body);
}

// A large file, resumably: tus-js-client retries after a drop (asking the server how much
// it has), so the bar goes on from there rather than from zero.
function sendResumable(row, file) {
  let uploadId = null;
  const upload = new window.tus.Upload(file, {
    endpoint: "/api/v1/tus",
    chunkSize: TUS_CHUNK,
    retryDelays: [0, 1000, 2000, 5000, 10000, 20000, 30000],
    metadata: { filename: file.name, filetype: file.type },
    headers: { "X-CSRFToken": csrfToken },
    removeFingerprintOnSuccess: true,
    onProgress: (loaded, total) => row.sent(loaded, total),
    onAfterResponse: (request, response) => {
      uploadId = response.getHeader("Cairn-Upload-Id") || uploadId;
    },
    onShouldRetry: (error) => {
      const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
      const retry = status === 0 || status === 409 || status === 423 || status >= 500;
      if (retry) row.say("The connection dropped: resuming where it stopped.");
      return retry;
    },
    onError: (error) => {
      const body = error.originalResponse?.getBody();
      let message = "The upload did not reach the server: check the connection and try again.";
      try { message = JSON.parse(body).error.message || message; } catch { /* not JSON */ }
      row.fail(message);
      finished();
    },
    onSuccess: () => {
      row.say("");
      fetch(`/api/v1/uploads/${uploadId}`, { headers: { Accept: "application/json" } })
        .then((response) => response.json())
        .then((body) => accepted(row, body))
        .catch(() => row.say("Sent; its status could not be read yet."));
      finished();
    },
  });
  upload.findPreviousUploads().then((previous) => {
    if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    upload.start();
  });
}

function accepted(row, upload) {
  row.again = upload.duplicate;  // "Already uploaded — open it"
  row.show(upload);
  watch(`/api/v1/uploads/${upload.id}`, {
    first: upload,
    onUpdate: (next) => row.show(next),
    onTrouble: (message) => row.say(message),
  });
}

function finished() {
  sending -= 1;
  pump();
}

function pump() {
  while (sending < PARALLEL && waiting.length) {
    const [row, file] = waiting.shift();
    sending += 1;
    row.setStatus("uploading 0%");
    if (file.size >= TUS_FROM && window.tus?.isSupported) sendResumable(row, file);
    else send(row, file);
  }
}

function uploadAll(files) {
  for (const file of files) waiting.push([new Row(file), file]);
  pump();
}

input.addEventListener("change", () => {
  uploadAll(input.files);
  input.value = "";  // choosing the same file again is a new upload (answered as duplicate)
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  uploadAll(input.files);
});
input.required = false;  // with the script, files come from the input or from a drop

for (const type of ["dragenter", "dragover"]) {
  zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
}
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("dragging");
  if (event.dataTransfer?.files?.length) uploadAll(event.dataTransfer.files);
});
followRecent(document.getElementById("recent-uploads"));
// A file dropped beside the zone would replace the page with the file itself.
document.addEventListener("dragover", (event) => event.preventDefault());
document.addEventListener("drop", (event) => event.preventDefault());
