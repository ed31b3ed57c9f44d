// Rendezvous: small progressive enhancements. Every page works without this script; it only saves clicks.
(function () {
  "use strict";

  var TZ_KEY = "rdv_tz";

  function rememberZone(zone) {
    try { window.localStorage.setItem(TZ_KEY, zone); } catch (e) { /* private mode: the cookie still works */ }
    document.cookie = TZ_KEY + "=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  }

  function hasOption(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { return true; }
    }
    return false;
  }

  // Time zone: show times in the visitor's zone from the first visit, and remember a choice made in the select.
  function timeZones() {
    var select = document.querySelector("[data-tz-select]");
    if (!select) { return; }
    select.addEventListener("change", function () {
      rememberZone(select.value);
      select.form.submit();
    });
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) {
      rememberZone(select.value);
      return;
    }
    var remembered = null;
    try { remembered = window.localStorage.getItem(TZ_KEY); } catch (e) { remembered = null; }
    var detected = remembered;
    if (!detected && window.Intl && Intl.DateTimeFormat) {
      detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    }
    if (!detected || detected === select.getAttribute("data-current") || !hasOption(select, detected)) { return; }
    // Ask once per zone and tab, so a zone the server resolves differently cannot cause a reload loop.
    var tried = window.sessionStorage.getItem("rdv_tz_tried");
    if (tried === detected) { return; }
    window.sessionStorage.setItem("rdv_tz_tried", detected);
    rememberZone(detected);
    url.searchParams.set("tz", detected);
    window.location.replace(url.toString());
  }

  // Booking details: open them beside the list instead of loading the whole page again.
  function detailsPane() {
    var pane = document.getElementById("pane");
    if (!pane || !window.fetch) { return; }
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-pane-src]") : null;
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      pane.setAttribute("aria-busy", "true");
      fetch(link.getAttribute("data-pane-src"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          pane.innerHTML = html;
          pane.removeAttribute("aria-busy");
          window.history.replaceState(null, "", link.href);
          var rows = document.querySelectorAll("[data-booking-row]");
          for (var i = 0; i < rows.length; i++) {
            rows[i].classList.toggle("selected", rows[i].getAttribute("data-booking-row") === link.getAttribute("data-booking"));
          }
          var heading = pane.querySelector("h2");
          if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        })
        .catch(function () { window.location.href = link.href; });
    });
  }

  // Repeating rows (date overrides, questions): "Add another" copies a template row with the next index.
  function repeatingRows() {
    var buttons = document.querySelectorAll("[data-add-row]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) {
        var button = event.currentTarget;
        var template = document.getElementById(button.getAttribute("data-add-row"));
        var list = document.getElementById(button.getAttribute("data-rows"));
        if (!template || !list) { return; }
        var index = list.querySelectorAll(".row-item").length;
        var html = template.innerHTML.replace(/__i__/g, String(index)).replace(/__n__/g, String(index + 1));
        list.insertAdjacentHTML("beforeend", html);
        var first = list.lastElementChild && list.lastElementChild.querySelector("input, select, textarea");
        if (first) { first.focus(); }
      });
    }
  }

  // Fields that only matter for one choice (seats for group sessions, minutes for "up to"): hide the others.
  function dependentFields() {
    var dependents = document.querySelectorAll("[data-show-when]");
    if (!dependents.length) { return; }
    function update() {
      for (var i = 0; i < dependents.length; i++) {
        var rule = dependents[i].getAttribute("data-show-when").split("=");
        var chosen = document.querySelector("[name='" + rule[0] + "']:checked") || document.querySelector("select[name='" + rule[0] + "']");
        var value = chosen ? chosen.value : "";
        dependents[i].hidden = rule[1].split("|").indexOf(value) < 0;
      }
    }
    document.addEventListener("change", update);
    update();
  }

  // A form marked data-once cannot be sent twice by a double click.
  function submitOnce() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-once")) { return; }
      if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  }

  function ready() {
    timeZones();
    detailsPane();
    repeatingRows();
    dependentFields();
    submitOnce();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
