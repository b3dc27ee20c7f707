// Live "today" figures on the report pages: polls the page's JSON endpoint every 10 seconds
// (while the tab is visible) and fills [data-live-field] elements. The pages work without it.
(function () {
  "use strict";
  var panel = document.querySelector("[data-live-url]");
  if (!panel || !window.fetch) return;
  var url = panel.getAttribute("data-live-url");
  var every = parseInt(panel.getAttribute("data-live-interval"), 10) || 10000;
  var status = panel.querySelector("[data-live-status]");
  var timer = null;
  var numbers = new Intl.NumberFormat();

  // The one money format of the pages (adplatform/accounts/formatting.py): 2 decimals, "<$0.01" below a cent.
  function money(value) {
    var amount = Number(value);
    if (!isFinite(amount)) return "—";
    if (amount !== 0 && Math.abs(amount) < 0.005) return (amount < 0 ? ">-" : "<") + "$0.01";
    var text = Math.abs(amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return (amount < 0 ? "-$" : "$") + text;
  }

  function format(value, kind) {
    if (value === null || value === undefined) return "—";
    if (kind === "percent") return (value * 100).toFixed(1) + "%";
    if (kind === "percent2") return (value * 100).toFixed(2) + "%";
    if (kind === "money") return money(value);
    return numbers.format(value);
  }

  function show(data) {
    panel.querySelectorAll("[data-live-field]").forEach(function (el) {
      var name = el.getAttribute("data-live-field");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        el.textContent = format(data[name], el.getAttribute("data-format"));
      }
    });
    panel.setAttribute("data-live-loaded", "true");
    var rollup = panel.querySelector("[data-rollup]");
    if (rollup) {
      var moneyField = panel.querySelector("[data-format=money]").getAttribute("data-live-field");
      var more = Math.max(0, (data.impressions || 0) - Number(rollup.getAttribute("data-rollup-impressions")));
      var clicks = Math.max(0, (data.clicks || 0) - Number(rollup.getAttribute("data-rollup-clicks")));
      var spend = Math.max(0, Number(data[moneyField] || 0) - Number(rollup.getAttribute("data-rollup-money")));
      rollup.querySelector("[data-rollup-delta]").textContent = "+" + numbers.format(more) + " impressions, +" +
        numbers.format(clicks) + " clicks and +" + money(spend) + " not yet in the range figures below.";
    }
    if (status) {
      var at = data.updated_at ? new Date(data.updated_at) : new Date();
      status.textContent = "Updated " + at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(show)
      .catch(function () {
        if (status) status.textContent = "Live figures unavailable; retrying";
      });
  }

  function start() {
    if (timer === null) {
      refresh();
      timer = window.setInterval(refresh, every);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stop(); else start();
  });
  start();
})();
