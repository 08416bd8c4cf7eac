// Small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  // Move focus to an error summary when one appears, as GOV.UK forms do.
  function focusErrors(root) {
    var summary = (root || document).querySelector("[data-module='error-summary']");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrors(event.target); });
  // Deadline countdowns: <time data-countdown datetime="ISO">.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("datetime"));
      if (isNaN(end)) { return; }
      var left = Math.max(0, Math.floor((end - now) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      el.textContent = left === 0 ? "closed" : (d + "d " + h + "h " + m + "m left");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
  // Confirmation for destructive buttons: <button data-confirm="…">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();
