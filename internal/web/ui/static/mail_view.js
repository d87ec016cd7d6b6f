// A customer's mail in its original formatting (tickets_mail.go): "show
// original formatting" opens the sanitised HTML in a sandboxed frame (no
// scripts, no requests); "load images" loads it again with the remote
// images the mail names, only when the agent asks. Without this script the
// two buttons are links that open the same documents in a new tab.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".mail-original").forEach(function (box) {
    var show = box.querySelector("a.mail-show");
    if (!show) {
      return;
    }
    var images = box.querySelector("a.mail-images");
    var note = box.querySelector(".mail-images-note");
    var label = show.textContent;
    var frame = null;
    var loaded = false;
    show.setAttribute("role", "button");
    show.setAttribute("aria-expanded", "false");
    var held = function (on) {
      if (images) {
        images.hidden = !on;
        note.hidden = !on;
      }
    };
    show.addEventListener("click", function (e) {
      e.preventDefault();
      if (frame) {
        frame.remove();
        frame = null;
        show.textContent = label;
        show.setAttribute("aria-expanded", "false");
        held(false);
        return;
      }
      frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.setAttribute("title", show.getAttribute("data-title"));
      frame.className = "mail-frame";
      frame.style.width = "100%";
      frame.style.height = "26rem";
      frame.style.border = "1px solid #d0d7de";
      frame.style.borderRadius = "6px";
      frame.style.background = "#fff";
      frame.style.resize = "vertical";
      frame.src = show.getAttribute("data-frame") + (loaded ? "?images=1" : "");
      box.appendChild(frame);
      show.textContent = show.getAttribute("data-hide");
      show.setAttribute("aria-expanded", "true");
      held(!loaded);
    });
    if (images) {
      images.addEventListener("click", function (e) {
        e.preventDefault();
        loaded = true;
        held(false);
        if (frame) {
          frame.src = images.getAttribute("href");
        }
      });
    }
  });
});
