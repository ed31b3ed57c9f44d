// Rendezvous embed: shows a booking page inside another site. Paste, where the page should appear:
//   <div data-rendezvous-page="organization/page"></div>
//   <script src="https://rendezvous.example.com/embed.js" async></script>
// data-rendezvous-mode="popup" makes a button instead (data-rendezvous-label sets its text) that opens the page in a
// dialog. The frame grows with its content. When a booking is made, the element fires a "rendezvous:booked" event
// (it bubbles) whose detail holds the booking's id, page, status, start and end. The organization must list this
// site's origin among its allowed origins, or the browser refuses to show the frame.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var server = new URL(script.src).origin;
  var frames = [];

  function frameFor(element, dialog) {
    var page = (element.getAttribute("data-rendezvous-page") || "").replace(/^\/+|\/+$/g, "");
    if (!/^[a-z0-9-]+\/[a-z0-9-]+$/i.test(page)) {
      if (window.console) { window.console.warn("Rendezvous: data-rendezvous-page must be \"organization/page\"."); }
      return null;
    }
    var frame = document.createElement("iframe");
    frame.src = server + "/embed/" + page;
    frame.title = element.getAttribute("data-rendezvous-title") || "Book a time";
    frame.setAttribute("loading", "lazy");
    frame.style.cssText = "display:block;width:100%;min-height:320px;height:600px;border:0;";
    frame.addEventListener("load", function () {
      frame.contentWindow.postMessage({ type: "rendezvous:hello" }, server);
    });
    frames.push({ frame: frame, element: element, dialog: dialog || null });
    return frame;
  }

  function inline(element) {
    var frame = frameFor(element);
    if (frame) { element.appendChild(frame); }
  }

  function popup(element) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = element.getAttribute("data-rendezvous-label") || "Book a time";
    button.setAttribute("aria-haspopup", "dialog");
    element.appendChild(button);

    var dialog = document.createElement("dialog");
    dialog.setAttribute("aria-label", element.getAttribute("data-rendezvous-title") || "Book a time");
    dialog.style.cssText = "width:min(720px,95vw);max-height:90vh;padding:0;border:0;border-radius:8px;overflow:auto;";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.style.cssText = "position:sticky;top:0;float:right;margin:.5rem;z-index:1;";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(close);
    element.appendChild(dialog);

    var frame = null;
    button.addEventListener("click", function () {
      // The frame is made on first opening, so a page with a button loads nothing until someone wants to book.
      if (!frame) {
        frame = frameFor(element, dialog);
        if (!frame) { return; }
        frame.removeAttribute("loading");
        dialog.appendChild(frame);
      }
      dialog.showModal();
    });
    dialog.addEventListener("close", function () { button.focus(); });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== server || !event.data || typeof event.data.type !== "string") { return; }
    for (var i = 0; i < frames.length; i++) {
      var entry = frames[i];
      if (entry.frame.contentWindow !== event.source) { continue; }
      if (event.data.type === "rendezvous:height" && typeof event.data.height === "number") {
        entry.frame.style.height = Math.max(200, Math.min(event.data.height, 10000)) + "px";
      } else if (event.data.type === "rendezvous:booked") {
        entry.element.dispatchEvent(new CustomEvent("rendezvous:booked", { bubbles: true, detail: event.data.booking }));
      } else if (event.data.type === "rendezvous:escape" && entry.dialog && entry.dialog.open) {
        entry.dialog.close();
      }
    }
  });

  function start() {
    var elements = document.querySelectorAll("[data-rendezvous-page]");
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      if (element.getAttribute("data-rendezvous-ready")) { continue; }
      element.setAttribute("data-rendezvous-ready", "true");
      if (element.getAttribute("data-rendezvous-mode") === "popup") { popup(element); } else { inline(element); }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
