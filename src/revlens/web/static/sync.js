// Refresh the backfill's progress on the dashboard until it completes (our own code, no deps).
(function () {
  "use strict";
  const box = document.getElementById("sync");
  if (!box || box.dataset.complete === "true") return;

  function render(status) {
    const percent = document.getElementById("sync-percent");
    const bar = document.getElementById("sync-progress");
    if (percent) percent.textContent = Math.round(status.percent) + "%";
    if (bar) bar.value = status.percent;
    const body = document.getElementById("sync-streams");
    body.replaceChildren(...status.streams.map(function (s) {
      const row = document.createElement("tr");
      row.dataset.stream = s.stream;
      [s.stream, s.status, s.objects, s.requests, s.rate_limited].forEach(function (v) {
        const cell = document.createElement("td");
        cell.textContent = String(v);
        row.appendChild(cell);
      });
      return row;
    }));
    if (status.complete) {
      box.dataset.complete = "true";
      document.getElementById("sync-state").textContent =
        "Your Stripe data is mirrored and kept up to date.";
      if (bar) bar.remove();
    }
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (status) render(status);
        if (!status || !status.complete) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
