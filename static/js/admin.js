// Admin customisations: the autocomplete boxes Django draws with Select2 name themselves by their
// field's label (Select2 labels the combobox by its current value only, empty when nothing is chosen).
(function () {
  "use strict";
  function labelComboboxes(root) {
    (root || document).querySelectorAll(".select2-selection[role=combobox]").forEach(function (box) {
      var container = box.closest(".select2-container");
      var select = container && container.previousElementSibling;
      if (!select || !select.id) return;
      var label = document.querySelector("label[for='" + select.id + "']");
      if (!label) return;
      if (!label.id) label.id = select.id + "_label";
      var own = (box.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
      if (own.indexOf(label.id) === -1) box.setAttribute("aria-labelledby", [label.id].concat(own).join(" "));
      // the read-only textbox inside shows the chosen value: named by the label too when it is empty
      var shown = box.querySelector("[role=textbox]");
      if (shown && !shown.getAttribute("aria-labelledby")) shown.setAttribute("aria-labelledby", label.id);
    });
  }
  window.addEventListener("load", function () { labelComboboxes(); });
  document.addEventListener("formset:added", function (event) { labelComboboxes(event.target); });
})();
