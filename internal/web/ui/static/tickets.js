// The ticket pages' script: the intake form's customer search (type a name,
// pinyin or phone; arrow keys and Enter choose), the customer's products
// with their warranty, the complaint fields shown for complaints only, and
// copying a ticket number. Every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var copy = document.getElementById("copy-number");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(copy.getAttribute("data-number")).then(function () {
        copy.textContent = copy.getAttribute("data-done");
      });
    });
  }
  var form = document.getElementById("ticket-form");
  if (!form) {
    return;
  }
  var types = document.getElementById("type-choices");
  var complaint = document.getElementById("complaint-fields");
  var showComplaint = function () {
    var picked = types.querySelector("input:checked");
    complaint.hidden = !picked || picked.value !== "complaint";
    // The admin's fields of the chosen type only.
    document.querySelectorAll("[data-ticket-types]").forEach(function (el) {
      var only = el.getAttribute("data-ticket-types");
      el.hidden = only !== "" && (!picked || only.split(" ").indexOf(picked.value) < 0);
    });
  };
  if (types && complaint) {
    types.addEventListener("change", showComplaint);
    showComplaint();
  }
  var box = document.getElementById("customer-pick");
  var q = document.getElementById("customer_q");
  var list = document.getElementById("customer-options");
  var hidden = document.getElementById("customer_id");
  if (!q || !list || !hidden) {
    return; // the server-side search step's choices are on the page
  }
  var items = [], active = -1, timer = 0, seq = 0;
  var close = function () {
    list.hidden = true;
    q.setAttribute("aria-expanded", "false");
    q.removeAttribute("aria-activedescendant");
    active = -1;
  };
  var mark = function (i) {
    active = i;
    list.querySelectorAll("li").forEach(function (li, n) {
      li.setAttribute("aria-selected", n === i ? "true" : "false");
    });
    if (i >= 0) {
      q.setAttribute("aria-activedescendant", "customer-opt-" + i);
    }
  };
  var products = function (id) {
    var set = document.getElementById("product-choices");
    fetch("/api/v1/customers/" + id + "/products", {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (owned) {
        var rows = Array.isArray(owned) ? owned : (owned.items || []);
        set.querySelectorAll("label.check").forEach(function (l, n) { if (n > 0) { l.remove(); } });
        set.querySelector("input").checked = rows.length !== 1;
        rows.forEach(function (p) {
          var label = document.createElement("label");
          label.className = "check";
          var input = document.createElement("input");
          input.type = "radio"; input.name = "owned_product_id"; input.value = p.id; input.checked = rows.length === 1;
          var badge = document.createElement("span");
          badge.className = "coverage " + (p.in_warranty ? "coverage-warranty" : "coverage-none");
          badge.textContent = box.getAttribute(p.in_warranty ? "data-in-warranty" : "data-out-warranty");
          label.append(input, " " + p.product_name + (p.serial ? " " + p.serial : "") + " ", badge);
          set.append(label);
        });
        set.hidden = false;
      });
  };
  var choose = function (c, byKey) {
    hidden.value = c.id;
    document.getElementById("chosen-name").textContent = c.name;
    document.getElementById("chosen-sub").textContent = c.number + (c.phones && c.phones.length ? " · " + c.phones.join(" · ") : "");
    document.getElementById("chosen-customer").hidden = false;
    var fresh = document.getElementById("new-customer");
    if (fresh) { fresh.open = false; }
    q.value = c.name;
    close();
    products(c.id);
    var next = types.querySelector("input:checked") || types.querySelector("input");
    if (!byKey) {
      next.focus();
      return;
    }
    // Move on only once Enter is released: a radio focused while its
    // keypress is still to come would take that Enter as "submit the form".
    var moved = false;
    var go = function () {
      if (moved) { return; }
      moved = true;
      q.removeEventListener("keyup", go);
      next.focus();
    };
    q.addEventListener("keyup", go);
    setTimeout(go, 1000); // a key released elsewhere
  };
  var show = function (rows) {
    items = rows;
    list.textContent = "";
    if (!rows.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = box.getAttribute("data-none");
      list.append(none);
    }
    rows.forEach(function (c, i) {
      var li = document.createElement("li");
      li.id = "customer-opt-" + i;
      li.setAttribute("role", "option");
      var name = document.createElement("strong");
      name.textContent = c.name;
      var sub = document.createElement("small");
      sub.textContent = c.number + (c.phones && c.phones.length ? " · " + c.phones[0] : "");
      li.append(name, " ", sub);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(c); });
      list.append(li);
    });
    list.hidden = false;
    q.setAttribute("aria-expanded", "true");
    mark(rows.length ? 0 : -1);
  };
  var search = function () {
    var text = q.value.trim();
    if (!text) { close(); return; }
    var mine = ++seq;
    fetch("/api/v1/customers?limit=8&q=" + encodeURIComponent(text), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (page) { if (mine === seq && document.activeElement === q) { show(page.items || []); } })
      .catch(function () {});
  };
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  q.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (list.hidden) { search(); return; }
      if (!items.length) { return; }
      var n = active + (ev.key === "ArrowDown" ? 1 : -1);
      mark((n + items.length) % items.length);
    } else if (ev.key === "Enter") {
      // Enter in the search box chooses, never submits the ticket.
      ev.preventDefault();
      if (!list.hidden && active >= 0) { choose(items[active], true); } else { clearTimeout(timer); search(); }
    } else if (ev.key === "Escape") {
      close();
    }
  });
  q.addEventListener("keypress", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); } // never submits from the search box
  });
  q.addEventListener("blur", function () { setTimeout(close, 150); });
});
