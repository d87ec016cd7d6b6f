// The ticket page's files: a file over the size limit, or one file too
// many, is said next to the file input before anything is sent (the server
// refuses them anyway, but the typed reply would travel for nothing); a
// file's delete button asks first. The page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.file-delete[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) {
        e.preventDefault();
      }
    });
  });
  var input = document.getElementById("attachments");
  if (!input) {
    return;
  }
  var maxBytes = Number(input.getAttribute("data-max-bytes")) || 0;
  var maxFiles = Number(input.getAttribute("data-max-files")) || 0;
  input.addEventListener("change", function () {
    var msg = "";
    if (maxFiles && input.files.length > maxFiles) {
      msg = input.getAttribute("data-too-many");
    }
    for (var i = 0; i < input.files.length && !msg; i++) {
      if (maxBytes && input.files[i].size > maxBytes) {
        msg = input.getAttribute("data-too-large").replace("{name}", input.files[i].name);
      }
    }
    input.setCustomValidity(msg);
    if (msg) {
      input.reportValidity();
    }
  });
});
