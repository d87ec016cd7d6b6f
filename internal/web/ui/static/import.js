// Progress of a background customer import: polls the job every second and
// moves the progress bar and its text; reloads the page when the job changes
// state (started, next phase, cancel asked, ended), since the page words
// each state. Without this script the page's Refresh link does the same by
// hand. The text comes from the page (data-pattern, from the catalog) with
// {done} and {total} in place of the numbers.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("import-job");
  if (!box) {
    return;
  }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") {
    return;
  }
  var id = box.getAttribute("data-job");
  var phase = box.getAttribute("data-phase") || "";
  var cancelling = box.getAttribute("data-cancel") === "true";
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-text");
  var pattern = text ? text.getAttribute("data-pattern") : null;
  function poll() {
    fetch("/api/v1/customers/import/jobs/" + encodeURIComponent(id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) {
          window.setTimeout(poll, 3000); // try again; the Refresh link still works
          return;
        }
        if (job.status !== status || (job.phase || "") !== phase || Boolean(job.cancel_requested) !== cancelling) {
          window.location.reload();
          return;
        }
        if (bar && job.rows_total > 0) {
          bar.max = job.rows_total;
          bar.value = job.rows_done;
        }
        if (text && pattern) {
          text.textContent = pattern.replace("{done}", String(job.rows_done)).replace("{total}", String(job.rows_total));
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
});
