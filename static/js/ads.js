// Advertiser console enhancements. Every form works without them: these only make the
// targeting and creative forms quicker to use.
(function () {
  "use strict";

  function fire(element) {
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Sections that matter for one choice only: <div data-show-when="kind=NPC|MINIGAME">.
  var conditional = Array.prototype.slice.call(document.querySelectorAll("[data-show-when]"));
  function refreshConditional() {
    conditional.forEach(function (section) {
      var rule = section.getAttribute("data-show-when").split("=");
      var form = section.closest("form");
      var control = form && form.elements[rule[0]];
      if (!control) return;
      section.hidden = rule[1].split("|").indexOf(control.value) === -1;
    });
  }
  if (conditional.length) {
    document.addEventListener("change", function (event) {
      if (event.target.matches("select, input[type=radio]")) refreshConditional();
    });
    refreshConditional();
  }

  // Country lists: a filter box above, one click (no Ctrl) to choose, and what is chosen below.
  document.querySelectorAll("select[data-country-select]").forEach(function (select) {
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "country-filter";
    filter.placeholder = "Filter countries…";
    filter.setAttribute("aria-label", "Filter the list of countries");
    select.parentNode.insertBefore(filter, select);
    var chosen = document.createElement("p");
    chosen.className = "chosen";
    chosen.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(chosen, select.nextSibling);
    var help = select.parentNode.querySelector(".help");
    if (help) help.textContent = "Click a country to choose it or to drop it. None chosen: every country.";

    function summarise() {
      var names = Array.prototype.filter.call(select.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
      chosen.textContent = names.length ? names.length + " chosen: " + names.join(", ") : "None chosen.";
    }
    filter.addEventListener("input", function () {
      var query = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = query !== "" && option.text.toLowerCase().indexOf(query) === -1;
      });
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // filtering must not submit the form
    });
    select.addEventListener("mousedown", function (event) {
      var option = event.target.closest("option");
      if (!option || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      option.selected = !option.selected;
      select.focus();
      fire(select);
    });
    select.addEventListener("change", summarise);
    summarise();
  });

  // The day x hour grid: shade the cells that serve, and offer common presets.
  document.querySelectorAll("[data-schedule-grid]").forEach(function (grid) {
    var days = grid.querySelectorAll("input[name=days_of_week]");
    var hours = grid.querySelectorAll("input[name=hours_utc]");
    function checked(inputs) {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return parseInt(i.value, 10); });
    }
    function shade() {
      var onDays = checked(days);
      var onHours = checked(hours);
      grid.querySelectorAll("tbody tr").forEach(function (row, day) {
        var dayOn = onDays.length === 0 || onDays.indexOf(day) !== -1;
        row.querySelectorAll("td.cell").forEach(function (cell) {
          var hour = parseInt(cell.getAttribute("data-hour"), 10);
          cell.classList.toggle("on", dayOn && (onHours.length === 0 || onHours.indexOf(hour) !== -1));
        });
      });
    }
    function range(text) {
      // "17-22" -> [17..22]; "" -> [] (every day / hour)
      if (!text) return [];
      var ends = text.split("-").map(function (n) { return parseInt(n, 10); });
      var out = [];
      for (var n = ends[0]; n <= ends[ends.length - 1]; n++) out.push(n);
      return out;
    }
    function setAll(inputs, values) {
      Array.prototype.forEach.call(inputs, function (input) {
        input.checked = values.indexOf(parseInt(input.value, 10)) !== -1;
      });
      shade();
    }
    var presets = grid.querySelector("[data-grid-presets]");
    if (presets) {
      presets.hidden = false;
      presets.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        if (button.hasAttribute("data-hours")) setAll(hours, range(button.getAttribute("data-hours")));
        if (button.hasAttribute("data-days")) setAll(days, range(button.getAttribute("data-days")));
      });
    }
    // A click on a shaded or empty cell ticks (or unticks) its hour: the columns are the quickest handle.
    grid.querySelectorAll("td.cell").forEach(function (cell) {
      cell.addEventListener("click", function () {
        var input = grid.querySelector("input[name=hours_utc][value='" + cell.getAttribute("data-hour") + "']");
        if (input) {
          input.checked = !input.checked;
          shade();
        }
      });
    });
    grid.addEventListener("change", shade);
    shade();
  });

  // NPC dialogue: one input per line, rows added and removed; the textarea stays the submitted field.
  document.querySelectorAll("textarea[data-dialogue-editor]").forEach(function (textarea) {
    var MAX = 20;
    var list = document.createElement("ol");
    list.className = "dialogue-rows";
    var add = document.createElement("button");
    add.type = "button";
    add.className = "button button-secondary button-small";
    add.textContent = "Add a line";
    textarea.hidden = true;
    textarea.parentNode.insertBefore(list, textarea);
    textarea.parentNode.insertBefore(add, textarea.nextSibling);

    function sync() {
      var lines = Array.prototype.map.call(list.querySelectorAll("input"), function (i) { return i.value; });
      textarea.value = lines.join("\n");
      add.disabled = lines.length >= MAX;
    }
    function row(text) {
      var item = document.createElement("li");
      var input = document.createElement("input");
      input.type = "text";
      input.maxLength = 200;
      input.value = text;
      input.setAttribute("aria-label", "Line");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-secondary button-small";
      remove.textContent = "Remove";
      remove.addEventListener("click", function () {
        item.remove();
        if (!list.children.length) row("");
        sync();
      });
      input.addEventListener("input", sync);
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          // Enter starts the next line, as in the textarea it replaces.
          event.preventDefault();
          if (list.children.length < MAX) {
            var next = row("");
            item.after(next);
            next.querySelector("input").focus();
            sync();
          }
        }
      });
      list.appendChild(item);
      item.appendChild(input);
      item.appendChild(remove);
      return item;
    }
    var lines = textarea.value.split("\n").filter(function (l) { return l.trim() !== ""; });
    (lines.length ? lines : [""]).forEach(row);
    var label = document.querySelector("label[for='" + textarea.id + "']");
    var first = list.querySelector("input");
    if (label && first) {
      first.id = textarea.id + "_line";
      label.htmlFor = first.id;
    }
    add.addEventListener("click", function () {
      if (list.children.length >= MAX) return;
      row("").querySelector("input").focus();
      sync();
    });
    sync();
  });

  // Brand colour: a colour picker next to the #RRGGBB text box, kept in step.
  document.querySelectorAll("input[data-color-input]").forEach(function (text) {
    var picker = document.createElement("input");
    picker.type = "color";
    picker.className = "color-picker";
    picker.setAttribute("aria-label", "Pick the brand colour");
    var valid = /^#[0-9a-fA-F]{6}$/;
    picker.value = valid.test(text.value) ? text.value.toLowerCase() : "#1f6feb";
    text.parentNode.insertBefore(picker, text.nextSibling);
    picker.addEventListener("input", function () { text.value = picker.value.toUpperCase(); });
    text.addEventListener("input", function () {
      if (valid.test(text.value)) picker.value = text.value.toLowerCase();
    });
  });

  // Game pickers: type to filter the list of games by name.
  document.querySelectorAll("[data-game-picker]").forEach(function (picker) {
    var search = picker.querySelector("[data-game-search]");
    var count = picker.querySelector("[data-game-count]");
    var items = Array.prototype.slice.call(picker.querySelectorAll("li[data-game-name]"));
    if (!search || items.length < 2) return;
    search.hidden = false;
    function filter() {
      var text = search.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var checked = item.querySelector("input").checked;
        var match = !text || item.getAttribute("data-game-name").indexOf(text) !== -1 || checked;
        item.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = text ? shown + " of " + items.length + " games shown" : "";
    }
    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();  // Enter filters; it does not submit the form
    });
  });

  // Reach forecast: re-estimated from the last 7 days whenever the targeting changes.
  var forecast = document.querySelector("[data-forecast-url]");
  if (forecast) {
    var form = forecast.closest("form");
    var names = ["countries_included", "countries_excluded", "devices", "container_types", "segments",
                 "days_of_week", "hours_utc", "games_included", "games_excluded"];
    var timer = null;
    var refresh = function () {
      var params = new URLSearchParams();
      names.forEach(function (name) {
        var fields = form.querySelectorAll("[name='" + name + "']");
        fields.forEach(function (field) {
          if (field.tagName === "SELECT") {
            Array.prototype.forEach.call(field.selectedOptions, function (option) { params.append(name, option.value); });
          } else if (field.type === "checkbox") {
            if (field.checked) params.append(name, field.value);
          } else if (field.value) {
            params.append(name, field.value);
          }
        });
      });
      fetch(forecast.getAttribute("data-forecast-url") + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) return;
          forecast.querySelector("[data-forecast-impressions]").textContent = body.daily_requests.toLocaleString("en-US");
          forecast.querySelector("[data-forecast-delivered]").textContent = body.daily_impressions.toLocaleString("en-US");
          forecast.querySelector("[data-forecast-note]").hidden = !body.segments_ignored;
        })
        .catch(function () { /* the figure shown stays; the form works without it */ });
    };
    form.addEventListener("change", function (event) {
      if (names.indexOf(event.target.name) === -1) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  }
})();
