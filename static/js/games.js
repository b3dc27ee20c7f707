// Owner console: "Add a row" for the playlist items formset. Without it the page still offers empty rows.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var list = document.querySelector(button.getAttribute("data-add-row"));
    var template = document.querySelector(button.getAttribute("data-template"));
    var prefix = button.getAttribute("data-prefix");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    if (!list || !template || !total) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) {
        button.disabled = true;
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var input = list.lastElementChild && list.lastElementChild.querySelector("input");
      if (input) input.focus();
    });
  });
})();
