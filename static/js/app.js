// Small progressive enhancements shared by every page. Pages work without it.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="#selector">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    var fallback = function () {
      // Select the text and copy it the old way (also when the clipboard API is refused).
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); } catch (e) { /* the text stays selected for Ctrl-C */ }
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });
  // Confirmation before destructive form posts: <form data-confirm="Are you sure?">
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // A form that came back with errors: focus its first invalid field (the summary above lists them all,
  // each linked to its field; role=alert reads them out).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    var form = summary.closest("form") || document;
    var first = form.querySelector("[aria-invalid=true]:not([type=hidden])");
    if (first && !first.closest("[hidden]")) {
      first.focus();
    } else {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }
  // A link of the error summary moves focus to its field, not only the scroll position.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
})();
