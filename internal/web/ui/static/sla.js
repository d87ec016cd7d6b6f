// SLA countdowns (the workspace's SLA column, the ticket page's badge and
// panel): every [data-sla-due] element's .sla-text says the time left or
// overdue, and its class turns sla-ok, sla-soon (under an hour) or
// sla-over. The words and the server's instant come from data-sla-words
// (tickets_sla.go renders the same text first); the time runs on from the
// server's instant by the page's own monotonic clock, so a browser whose
// clock is wrong still agrees with the server. Without the script the
// rendered text stands.
"use strict";
(function () {
  var holder = document.querySelector("[data-sla-words]");
  if (!holder) {
    return;
  }
  var w;
  try {
    w = JSON.parse(holder.getAttribute("data-sla-words"));
  } catch (e) {
    return;
  }
  var base = Date.parse(w.now), start = performance.now(), soon = Number(w.soon) * 1000;
  if (isNaN(base)) {
    return;
  }
  var span = function (minutes) {
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    var fill = function (s) {
      return s.replace("{d}", d).replace("{h}", h).replace("{m}", m).replace("{n}", minutes);
    };
    if (d > 0) {
      return fill(h > 0 ? w.dh : w.d);
    }
    if (h > 0) {
      return fill(m > 0 ? w.hm : w.h);
    }
    return fill(w.min);
  };
  var render = function () {
    var now = base + (performance.now() - start);
    document.querySelectorAll("[data-sla-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-sla-due"));
      var text = el.querySelector(".sla-text");
      if (isNaN(due) || !text) {
        return;
      }
      var left = due - now, cls, words;
      if (left > 0) {
        cls = left <= soon ? "sla-soon" : "sla-ok";
        words = w["in"].replace("{t}", span(Math.ceil(left / 60000)));
      } else {
        var over = Math.floor(-left / 60000);
        cls = "sla-over";
        words = over === 0 ? w.overNow : w.over.replace("{t}", span(over));
      }
      if (text.textContent !== words) {
        text.textContent = words;
      }
      ["sla-ok", "sla-soon", "sla-over"].forEach(function (c) {
        el.classList.toggle(c, c === cls);
      });
    });
  };
  render();
  setInterval(render, 15000);
})();
