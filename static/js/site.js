/* The site's one small script. Progressive enhancement only: every page and
   form works without it. It
   - stops a form being sent twice (a double tap on a slow connection) and
     shows that it is working;
   - asks before an action that moves money or cannot be undone
     (a form with data-confirm="what will happen");
   - turns a wide table into stacked rows on a narrow screen (without the
     script such a table scrolls sideways inside its own box). */
(function () {
  "use strict";
  var busyText = document.body.getAttribute("data-busy-text") || "…";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method.toLowerCase() !== "post") return;
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    form.setAttribute("aria-busy", "true");
    var submitter = event.submitter;
    // A disabled button is left out of what the form sends: keep its value.
    if (submitter && submitter.name) {
      var kept = document.createElement("input");
      kept.type = "hidden"; kept.name = submitter.name; kept.value = submitter.value;
      form.appendChild(kept);
    }
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.disabled = true;
      if (button === submitter || buttons.length === 1) {
        if (button.tagName === "INPUT") { button.value = busyText; } else { button.textContent = busyText; }
      }
    });
    // A download or a lost connection leaves the page where it is: let the
    // person try again after a while.
    window.setTimeout(function () {
      form.removeAttribute("data-sent"); form.removeAttribute("aria-busy");
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
    }, 20000);
  });

  // A page restored from the back/forward cache can be used again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
      form.removeAttribute("data-sent"); form.removeAttribute("aria-busy");
      Array.prototype.forEach.call(form.querySelectorAll("[disabled]"), function (b) { b.disabled = false; });
    });
  });

  function stack(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    if (!heads.length) return;
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
      });
    });
    table.classList.add("stacked");
  }
  Array.prototype.forEach.call(document.querySelectorAll("main table"), stack);
})();
