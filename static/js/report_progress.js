// The progress bar of a report rendering in the background: poll its status, then show the download.
// Without this script the page offers a refresh link instead.
(function () {
  "use strict";
  var box = document.getElementById("report-progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("report-progress-bar");
  var text = document.getElementById("report-progress-text");
  var status = document.getElementById("report-status");
  var refresh = document.getElementById("report-refresh");
  var INTERVAL_MS = 1500;
  var failures = 0;

  function show(run) {
    if (run.rows_total > 0) {
      bar.max = run.rows_total;
      bar.value = run.rows_done;
    }
    bar.textContent = run.progress;
    text.textContent = run.progress;
    if (status) { status.textContent = run.status_label; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (run) {
        failures = 0;
        show(run);
        if (run.finished) {
          // The page itself shows the download link, the SHA-256 or the error.
          window.location.reload();
          return;
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        failures += 1;
        if (failures >= 5) {
          refresh.hidden = false;
          return;
        }
        window.setTimeout(poll, INTERVAL_MS * failures);
      });
  }

  refresh.hidden = true;
  window.setTimeout(poll, INTERVAL_MS);
})();
