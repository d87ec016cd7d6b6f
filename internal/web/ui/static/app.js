// Careloop's small script: the phone menu, the role editor's role picker
// on a phone and confirmation before destructive buttons. Pages work without it.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // A demo server's sign-in page: a demo account's email fills the form.
  document.querySelectorAll(".demo-fill").forEach(function (el) {
    el.addEventListener("click", function () {
      document.getElementById("email").value = el.getAttribute("data-email");
      document.getElementById("password").value = el.getAttribute("data-password");
      document.getElementById("password").focus();
    });
  });
  // The settings' sub-navigation scrolls to the page it is on.
  var here = document.querySelector(".subnav a[aria-current]");
  if (here) {
    here.parentNode.parentNode.scrollLeft = here.offsetLeft - 16;
  }
  // The role editor on a phone: one role's column at a time.
  var pick = document.getElementById("role-pick");
  var matrix = document.getElementById("roles-matrix");
  if (pick && matrix) {
    var show = function () {
      matrix.classList.add("picking");
      matrix.querySelectorAll("[data-role]").forEach(function (cell) {
        cell.classList.toggle("picked", cell.getAttribute("data-role") === pick.value);
      });
    };
    pick.addEventListener("change", show);
    show();
  }
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) {
        ev.preventDefault();
      }
    });
  });
});
