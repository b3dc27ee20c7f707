// The live top 10: a websocket to /ws/leaderboards/<slug>/, rows updated in place with rank movement,
// the connection state shown, reconnection with backoff, and a resync when a seq is missed.
(function () {
  "use strict";
  var root = document.getElementById("liveboard");
  if (!root || !("WebSocket" in window)) return;

  var slug = root.getAttribute("data-slug");
  var list = document.getElementById("liveboard-rows");
  var statusEl = document.getElementById("live-status");
  var statusText = statusEl.querySelector(".live-status-text");
  var seq = parseInt(root.getAttribute("data-seq") || "0", 10);
  var socket = null;
  var attempts = 0;
  var retryTimer = null;
  var numberFormat = new Intl.NumberFormat();

  function setStatus(state, text) {
    statusEl.setAttribute("data-state", state);
    statusText.textContent = text;
  }

  function rowFor(entry) {
    var li = document.createElement("li");
    li.className = "liveboard-row";
    li.setAttribute("data-player", String(entry.player_id));
    li.innerHTML = '<span class="lb-rank"></span><span class="lb-name"></span><span class="lb-score"></span>';
    return li;
  }

  function render(entries) {
    var oldRows = {};
    var oldTops = {};
    Array.prototype.forEach.call(list.querySelectorAll(".liveboard-row"), function (li) {
      oldRows[li.getAttribute("data-player")] = li;
      oldTops[li.getAttribute("data-player")] = li.getBoundingClientRect().top;
    });
    var oldRanks = {};
    Object.keys(oldRows).forEach(function (id) {
      oldRanks[id] = parseInt(oldRows[id].querySelector(".lb-rank").textContent, 10);
    });
    var fragment = document.createDocumentFragment();
    entries.forEach(function (entry) {
      var id = String(entry.player_id);
      var li = oldRows[id] || rowFor(entry);
      var scoreText = numberFormat.format(entry.score);
      var scoreEl = li.querySelector(".lb-score");
      var changed = scoreEl.textContent !== scoreText;
      li.querySelector(".lb-rank").textContent = String(entry.rank);
      li.querySelector(".lb-name").textContent = entry.username || id;
      scoreEl.textContent = scoreText;
      li.classList.remove("moved-up", "moved-down", "is-new", "score-changed");
      if (!oldRows[id]) li.classList.add("is-new");
      else if (oldRanks[id] > entry.rank) li.classList.add("moved-up");
      else if (oldRanks[id] < entry.rank) li.classList.add("moved-down");
      if (changed && oldRows[id]) li.classList.add("score-changed");
      fragment.appendChild(li);
      delete oldRows[id];
    });
    list.innerHTML = "";
    if (!entries.length) {
      var empty = document.createElement("li");
      empty.className = "liveboard-empty empty";
      empty.textContent = "No scores yet. The first player to score appears here.";
      list.appendChild(empty);
    }
    list.appendChild(fragment);
    // Slide rows from where they were to where they are (FLIP), so rank movement is visible.
    Array.prototype.forEach.call(list.querySelectorAll(".liveboard-row"), function (li) {
      var before = oldTops[li.getAttribute("data-player")];
      if (before === undefined) return;
      var delta = before - li.getBoundingClientRect().top;
      if (!delta) return;
      li.style.transition = "none";
      li.style.transform = "translateY(" + delta + "px)";
      requestAnimationFrame(function () {
        li.style.transition = "transform 450ms ease";
        li.style.transform = "";
      });
    });
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "snapshot") {
      seq = message.seq;
      render(message.entries);
      return;
    }
    if (message.type !== "top10") return;
    if (message.seq <= seq) return;  // already have it (or older)
    if (message.seq > seq + 1 && seq > 0) {
      // Missed one or more: ask for a fresh snapshot rather than trusting a partial history.
      socket.send(JSON.stringify({type: "resync"}));
    }
    seq = message.seq;
    render(message.entries);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    setStatus("connecting", attempts ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(scheme + location.host + "/ws/leaderboards/" + encodeURIComponent(slug) + "/");
    socket.onopen = function () {
      attempts = 0;
      setStatus("live", "Live");
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      if (event.code === 4404) {
        setStatus("offline", "This leaderboard no longer exists");
        return;
      }
      attempts += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      setStatus("offline", "Disconnected, retrying in " + Math.ceil(delay / 1000) + " s");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, delay);
    };
  }

  document.addEventListener("visibilitychange", function () {
    // Back on the page after a long sleep: reconnect at once rather than wait for the backoff.
    if (!document.hidden && socket && socket.readyState === WebSocket.CLOSED) {
      clearTimeout(retryTimer);
      connect();
    }
  });
  connect();
})();
