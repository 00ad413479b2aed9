// Small enhancements; every page works without them. htmx (loaded before) sends the invoke
// forms; what it puts in the page gets the same enhancements (htmx.onLoad).
(function () {
  "use strict";

  var MAX_PAYLOAD_BYTES = 256 * 1024;

  function bytes(text) { return new Blob([text]).size; }

  function each(root, selector, enhance) {
    if (root.matches && root.matches(selector)) { enhance(root); }
    root.querySelectorAll(selector).forEach(enhance);
  }

  function setUp(root) {
    // Check JSON while typing, and say where it breaks.
    each(root, "textarea[data-json]", function (area) {
      var message = document.getElementById("payload-error");
      area.addEventListener("input", function () {
        var size = bytes(area.value);
        if (size > MAX_PAYLOAD_BYTES) {
          // Too large is not invalid: say it as the server does.
          area.setAttribute("aria-invalid", "true");
          if (message) {
            message.textContent = "The payload is larger than 256 KB, the most the gateway " +
              "accepts (" + size.toLocaleString("en-US") + " bytes): send a smaller one.";
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
      });
    });

    // Copy buttons: data-copy names the element whose text to copy.
    each(root, "[data-copy]", function (button) {
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
    each(root, "[data-countdown]", function (element) {
      var left = parseInt(element.dataset.countdown, 10);
      function show() {
        element.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
        if (left > 0) { left -= 1; }
      }
      show();
      setInterval(show, 1000);
    });

    // The invoke form: Format, Ctrl/Cmd+Enter, a size check before htmx sends it, and a word
    // when no answer came. Busy button, elapsed time and the double-send guard are htmx's
    // (hx-disabled-elt, hx-indicator, hx-sync) and the stylesheet's.
    each(root, "form[data-invoke]", function (form) {
      var area = form.querySelector("textarea[data-json]");
      var invoke = form.querySelector("button.primary[type=submit]");
      var format = form.querySelector("[data-format]");
      var hint = form.querySelector("[data-shortcut-hint]");
      var failed = form.querySelector("[data-send-error]");
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
            invoke.click();
          }
        });
      }
      form.addEventListener("htmx:confirm", function (event) {
        if (area && bytes(area.value) > MAX_PAYLOAD_BYTES) {
          // Sent, it would only come back as "too large"; here what was typed stays put.
          event.preventDefault();
          area.dispatchEvent(new Event("input"));
          area.focus();
        }
      });
      if (failed) {
        form.addEventListener("htmx:beforeRequest", function () { failed.hidden = true; });
        form.addEventListener("htmx:sendError", function () { failed.hidden = false; });
      }
    });

    each(root, "[data-back]", function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { history.back(); });
    });

    // The response's raw (one line) and pretty views.
    each(root, "[data-raw-toggle]", function (button) {
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
  }

  if (window.htmx) { window.htmx.onLoad(setUp); } else { setUp(document); }
})();
