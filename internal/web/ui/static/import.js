// Progress of a background customer import: polls the job every second,
// moves the progress bar and reloads the page when the job has ended.
// Without this script the page's Refresh link does the same by hand.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("import-job");
  if (!box) {
    return;
  }
  var id = box.getAttribute("data-job");
  var bar = document.getElementById("job-progress");
  var text = box.querySelector(".job-text");
  function poll() {
    fetch("/api/v1/customers/import/jobs/" + encodeURIComponent(id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) {
          return;
        }
        if (job.status !== "queued" && job.status !== "running") {
          window.location.reload();
          return;
        }
        if (job.status === "running" && job.phase !== box.getAttribute("data-phase")) {
          if (box.getAttribute("data-phase")) {
            window.location.reload(); // the page words the new phase
            return;
          }
          box.setAttribute("data-phase", job.phase);
        }
        if (bar && job.rows_total > 0) {
          bar.max = job.rows_total;
          bar.value = job.rows_done;
        }
        if (text && job.rows_done > 0) {
          text.textContent = text.textContent.replace(/\d+/, String(job.rows_done));
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  box.setAttribute("data-phase", box.getAttribute("data-status") === "running" ? (bar && bar.hasAttribute("max") ? "importing" : "checking") : "");
  window.setTimeout(poll, 1000);
});
