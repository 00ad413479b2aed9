// Small enhancements; every page works without them.
(function () {
  "use strict";

  var MAX_PAYLOAD_BYTES = 256 * 1024;

  function bytes(text) { return new Blob([text]).size; }

  // Check JSON while typing, and say where it breaks.
  document.querySelectorAll("textarea[data-json]").forEach(function (area) {
    var message = document.getElementById("payload-error");
    function check() {
      var size = bytes(area.value);
      if (size > MAX_PAYLOAD_BYTES) {
        // Too large is not invalid: say it as the server does.
        area.setAttribute("aria-invalid", "true");
        if (message) {
          message.textContent = "The payload is larger than 256 KB, the most the gateway accepts (" +
            size.toLocaleString("en-US") + " bytes): send a smaller one.";
          message.dataset.live = "1";
          message.hidden = false;
        }
        return;
      }
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

  // The invoke form: Format, Ctrl/Cmd+Enter, a size check, and a running clock while it runs.
  document.querySelectorAll("form[data-invoke]").forEach(function (form) {
    var area = form.querySelector("textarea[data-json]");
    var invoke = form.querySelector("button.primary[type=submit]");
    var format = form.querySelector("[data-format]");
    var elapsed = form.querySelector("[data-elapsed]");
    var hint = form.querySelector("[data-shortcut-hint]");
    if (hint) { hint.hidden = false; }
    if (format && area) {
      format.hidden = false;
      format.addEventListener("click", function () {
        try {
          area.value = JSON.stringify(JSON.parse(area.value), null, 2);
          area.dispatchEvent(new Event("input"));
        } catch (error) { area.dispatchEvent(new Event("input")); area.focus(); }
      });
    }
    if (area && invoke) {
      area.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          form.requestSubmit(invoke);
        }
      });
    }
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.hasAttribute("formaction")) { return; }
      if (form.dataset.busy) { event.preventDefault(); return; }
      if (area && bytes(area.value) > MAX_PAYLOAD_BYTES) {
        // Sent, it would only come back as "too large"; here what was typed stays put.
        event.preventDefault();
        area.dispatchEvent(new Event("input"));
        area.focus();
        return;
      }
      form.dataset.busy = "1";
      button.textContent = button.dataset.busyText || "Working…";
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      var started = Date.now();
      if (elapsed) {
        elapsed.textContent = "Running… 0 s (leave the page to stop waiting)";
        setInterval(function () {
          var seconds = Math.floor((Date.now() - started) / 1000);
          elapsed.textContent = "Running… " + seconds + " s (leave the page to stop waiting)";
        }, 1000);
      }
    });
  });
  // Back from a page that says what was sent was too large; the form there still has it.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-invoke]").forEach(function (form) {
      delete form.dataset.busy;
      var button = form.querySelector("button.primary[type=submit]");
      if (button) { button.disabled = false; button.textContent = "Invoke"; button.removeAttribute("aria-busy"); }
    });
  });
  document.querySelectorAll("[data-back]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { history.back(); });
  });

  // The response's raw (one line) and pretty views.
  document.querySelectorAll("[data-raw-toggle]").forEach(function (button) {
    var pre = document.getElementById(button.dataset.rawToggle);
    if (!pre || !pre.dataset.raw) { return; }
    var pretty = pre.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var raw = button.getAttribute("aria-pressed") !== "true";
      pre.textContent = raw ? pre.dataset.raw : pretty;
      button.setAttribute("aria-pressed", raw ? "true" : "false");
    });
  });
})();
