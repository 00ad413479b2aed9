// Small enhancements; every page works without them.
(function () {
  "use strict";

  // Check JSON while typing, and say where it breaks.
  document.querySelectorAll("textarea[data-json]").forEach(function (area) {
    var message = document.getElementById(area.getAttribute("aria-describedby") || "payload-error");
    function check() {
      try {
        JSON.parse(area.value);
        area.removeAttribute("aria-invalid");
        if (message && message.dataset.live) { message.hidden = true; }
      } catch (error) {
        area.setAttribute("aria-invalid", "true");
        if (message) {
          message.textContent = "Not valid JSON yet: " + error.message;
          message.dataset.live = "1";
          message.hidden = false;
        }
      }
    }
    area.addEventListener("input", check);
  });

  // Copy buttons: data-copy names the element whose text to copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });

  // Count down to the next token refresh.
  document.querySelectorAll("[data-countdown]").forEach(function (element) {
    var left = parseInt(element.dataset.countdown, 10);
    function show() {
      element.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
      if (left > 0) { left -= 1; }
    }
    show();
    setInterval(show, 1000);
  });

  // Show that an invocation is running, and stop a double submit.
  document.querySelectorAll("form[data-invoke]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.hasAttribute("formaction")) { return; }
      if (form.dataset.busy) { event.preventDefault(); return; }
      form.dataset.busy = "1";
      button.textContent = button.dataset.busyText || "Working…";
      button.setAttribute("aria-busy", "true");
    });
  });
})();
