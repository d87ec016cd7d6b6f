// The bell's unread count without a reload: asks the server every 30 s
// while the page is visible, and at once when the tab comes back.
(function () {
  "use strict";
  var bell = document.getElementById("bell");
  var count = document.getElementById("bell-count");
  if (!bell || !count || !window.fetch) { return; }
  var every = 30000, timer = null, busy = false;

  function show(n) {
    count.textContent = n > 99 ? "99+" : String(n);
    count.hidden = n <= 0;
    var label = n > 0 ? bell.getAttribute("data-label-unread").replace("{n}", String(n)) : bell.getAttribute("data-label");
    bell.setAttribute("aria-label", label);
  }

  function check() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch("/api/v1/notifications/unread", { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && typeof d.unread === "number") { show(d.unread); } })
      .catch(function () { /* offline: the next tick tries again */ })
      .then(function () { busy = false; });
  }

  function start() {
    if (timer === null) { timer = window.setInterval(check, every); }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearInterval(timer);
      timer = null;
    } else {
      check();
      start();
    }
  });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { check(); } });
  start();
})();
