// The ticket controls' script: on the ticket page, the notice of colleagues
// who have the ticket open (this page says it is open every 20 s, and at
// once when the agent starts or stops writing a reply), the reply template
// picker filling the reply box, the macro picker saying what the macro
// will do; on the workspace, ticking every ticket of the page and counting
// the ticked ones. Every page works without it (the template picker is
// then a plain GET, the notice is the one the page was rendered with).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var json = {credentials: "same-origin", headers: {Accept: "application/json", "Content-Type": "application/json"}};

  // Colleagues on the ticket.
  var box = document.getElementById("presence");
  if (box) {
    var ticket = box.getAttribute("data-ticket");
    var body = document.getElementById("body");
    var typedAt = 0, said = null;
    var replying = function () {
      var kind = document.querySelector('#composer-form input[name="kind"]:checked');
      return !!body && body.value.trim() !== "" && Date.now() - typedAt < 30000 && (!kind || kind.value === "reply");
    };
    var words = function (attr, names) {
      return names.length ? box.getAttribute(attr).replace("{names}", names.join(box.getAttribute("data-sep"))) : "";
    };
    var show = function (answer) {
      if (!answer || !Array.isArray(answer.items)) { return; }
      var rep = [], view = [];
      answer.items.forEach(function (v) { (v.replying ? rep : view).push(v.name); });
      document.getElementById("presence-replying").textContent = words("data-replying", rep);
      document.getElementById("presence-viewing").textContent = words("data-viewing", view);
      box.hidden = !rep.length && !view.length;
    };
    var send = function () {
      said = replying();
      fetch("/api/v1/tickets/" + ticket + "/presence", Object.assign({method: "POST", body: JSON.stringify({replying: said})}, json))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(show)
        .catch(function () {});
    };
    send();
    setInterval(send, 20000);
    if (body) {
      body.addEventListener("input", function () {
        typedAt = Date.now();
        if (replying() !== said) { send(); } // colleagues learn at once that a reply is being written
      });
    }
    document.querySelectorAll('#composer-form input[name="kind"]').forEach(function (el) {
      el.addEventListener("change", function () { if (replying() !== said) { send(); } });
    });
  }

  // The reply template picker fills the reply box.
  var tform = document.getElementById("template-form");
  var reply = document.getElementById("body");
  if (tform && reply) {
    tform.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var pick = document.getElementById("template-pick");
      fetch("/api/v1/tickets/" + tform.getAttribute("data-ticket") + "/reply-templates/" + pick.value, json)
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (t) {
          if (!t) { return; }
          var kind = document.querySelector('#composer-form input[name="kind"][value="reply"]');
          if (kind && !kind.checked) { kind.checked = true; kind.dispatchEvent(new Event("change", {bubbles: true})); }
          reply.value = reply.value.trim() ? reply.value.replace(/\s*$/, "\n\n") + t.body : t.body;
          reply.focus();
          reply.dispatchEvent(new Event("input", {bubbles: true}));
        })
        .catch(function () {});
    });
  }

  // The macro picker says what the chosen macro will do.
  var mpick = document.getElementById("macro-pick");
  var msum = document.getElementById("macro-summary");
  if (mpick && msum) {
    var will = function () {
      msum.querySelectorAll("[data-macro]").forEach(function (s) {
        s.hidden = s.getAttribute("data-macro") !== mpick.value;
      });
    };
    mpick.addEventListener("change", will);
    will();
  }

  // The workspace: tick every ticket of the page, count the ticked ones.
  var all = document.getElementById("pick-all");
  var count = document.getElementById("bulk-count");
  if (all && count) {
    var boxes = document.querySelectorAll("input.pick-one");
    var update = function () {
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) { n++; } });
      count.textContent = n ? count.getAttribute("data-some").replace("{n}", n) : count.getAttribute("data-none");
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      document.getElementById("bulk-form").classList.toggle("picked", n > 0);
    };
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }
});
