// Rendezvous: the framed side of an embed (/embed/{organization}/{page}). Tells the page that frames it how tall the
// content is, and that a booking was made. Messages go only to the origins the organization allows (the server lists
// them on <body>); the browser drops a message whose target origin is not the framing page's, so no other site hears it.
(function () {
  "use strict";

  var origins = (document.body.getAttribute("data-embed-origins") || "").split(" ").filter(Boolean);
  if (window.parent === window || origins.length === 0) { return; }

  function send(message) {
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  var last = -1;
  function reportHeight(force) {
    var main = document.getElementById("main");
    var height = Math.ceil((main || document.body).getBoundingClientRect().height) + 2;
    if (force || height !== last) {
      last = height;
      send({ type: "rendezvous:height", height: height });
    }
  }

  if (window.ResizeObserver) {
    new ResizeObserver(function () { reportHeight(false); }).observe(document.getElementById("main") || document.body);
  }
  window.addEventListener("load", function () { reportHeight(true); });
  reportHeight(true);

  var booked = document.body.getAttribute("data-embed-booked");
  if (booked) {
    send({ type: "rendezvous:booked", booking: JSON.parse(booked) });
  }

  // Escape pressed inside the frame never reaches the host page's dialog; pass it on so the pop-up closes as expected.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) { send({ type: "rendezvous:escape" }); }
  });

  // The embedding script says hello when the frame has loaded; it is answered only for an allowed origin.
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || origins.indexOf(event.origin) < 0) { return; }
    if (event.data && event.data.type === "rendezvous:hello") { reportHeight(true); }
  });
})();
