// The live top 10 on the site's board, the TV / kiosk mode and the stream overlay: a websocket to
// /ws/leaderboards/<slug>/, rows updated in place with rank-change arrows and a slide (FLIP), avatars (a
// placeholder until the server has the Roblox headshot), the last update time, the connection state,
// reconnection with backoff and a resync when a seq is missed. TV mode adds full screen (button or F) and
// hides the cursor when the mouse rests.
(function () {
  "use strict";
  var root = document.getElementById("liveboard");
  if (!root || !("WebSocket" in window)) return;

  var slug = root.getAttribute("data-slug");
  var mode = root.getAttribute("data-mode") || "page";
  var maxRows = parseInt(root.getAttribute("data-rows") || "10", 10) || 10;
  var placeholder = root.getAttribute("data-placeholder") || "";
  var list = document.getElementById("liveboard-rows");
  var statusEl = document.getElementById("live-status");
  var statusText = statusEl.querySelector(".live-status-text");
  var updatedEl = document.getElementById("live-updated");
  var seq = parseInt(root.getAttribute("data-seq") || "0", 10);
  var socket = null;
  var attempts = 0;
  var retryTimer = null;
  var numberFormat = new Intl.NumberFormat();
  var timeFormat = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"});
  var MOVE_SHOWN_MS = 15000;  // how long an arrow stays next to a row that moved

  function setStatus(state, text) {
    statusEl.setAttribute("data-state", state);
    statusText.textContent = text;
  }

  function markUpdated() {
    if (!updatedEl) return;
    var now = new Date();
    updatedEl.setAttribute("datetime", now.toISOString());
    updatedEl.textContent = timeFormat.format(now);
  }

  function rowFor(entry) {
    var li = document.createElement("li");
    li.className = "liveboard-row";
    li.setAttribute("data-player", String(entry.player_id));
    li.innerHTML = '<span class="lb-rank"></span><span class="lb-move"></span>' +
      '<img class="lb-avatar" alt="" width="150" height="150" decoding="async">' +
      '<span class="lb-name"></span><span class="lb-score"></span>';
    return li;
  }

  // An arrow counts from the rank the row had when its arrow appeared: three quick one-place climbs show ▲3.
  function moved(li, fromRank, toRank) {
    var base = li._moveFrom !== undefined ? li._moveFrom : fromRank;
    if (base === toRank) { clearMove(li); return; }
    showMove(li, base > toRank ? "up" : "down", Math.abs(base - toRank));
    li._moveFrom = base;
  }

  function showMove(li, dir, places) {
    var move = li.querySelector(".lb-move");
    clearTimeout(li._moveTimer);
    move.setAttribute("data-dir", dir);
    move.textContent = "";
    var arrow = document.createElement("span");
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = dir === "up" ? "▲" + places : dir === "down" ? "▼" + places : "NEW";
    var said = document.createElement("span");
    said.className = "visually-hidden";
    said.textContent = dir === "new" ? "new in the top 10" : (dir === "up" ? "up " : "down ") + places + (places === 1 ? " place" : " places");
    move.appendChild(arrow);
    move.appendChild(said);
    li._moveTimer = setTimeout(function () { clearMove(li); }, MOVE_SHOWN_MS);
  }

  function clearMove(li) {
    var move = li.querySelector(".lb-move");
    clearTimeout(li._moveTimer);
    li._moveFrom = undefined;
    move.removeAttribute("data-dir");
    move.textContent = "";
  }

  function render(entries) {
    entries = entries.slice(0, maxRows);
    var oldRows = {};
    var oldTops = {};
    var oldRanks = {};
    var hadRows = false;
    Array.prototype.forEach.call(list.querySelectorAll(".liveboard-row"), function (li) {
      var id = li.getAttribute("data-player");
      oldRows[id] = li;
      oldTops[id] = li.getBoundingClientRect().top;
      oldRanks[id] = parseInt(li.querySelector(".lb-rank").textContent, 10);
      hadRows = true;
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
      var img = li.querySelector(".lb-avatar");
      var src = entry.avatar_url || placeholder;
      if (src && img.getAttribute("src") !== src) img.setAttribute("src", src);
      li.classList.remove("is-new", "score-changed");
      void li.offsetWidth;  // restart the animations of a row that changes twice in a row
      if (!oldRows[id]) {
        li.classList.add("is-new");
        if (hadRows) showMove(li, "new", 0);
      } else if (oldRanks[id] !== entry.rank) {
        moved(li, oldRanks[id], entry.rank);
      }
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
        li.style.transition = "transform 600ms cubic-bezier(.2,.8,.2,1)";
        li.style.transform = "";
      });
    });
    markUpdated();
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

  if (mode === "tv") {
    var button = document.getElementById("lb-fullscreen");
    var canFullscreen = document.fullscreenEnabled && document.documentElement.requestFullscreen;
    function toggleFullscreen() {
      if (!canFullscreen) return;
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(function () {});
    }
    if (button && canFullscreen) {
      button.hidden = false;
      button.addEventListener("click", toggleFullscreen);
    }
    document.addEventListener("keydown", function (event) {
      if ((event.key === "f" || event.key === "F") && !event.ctrlKey && !event.metaKey && !event.altKey) toggleFullscreen();
    });
    // A screen nobody touches: hide the cursor once the mouse rests for 3 s.
    var idleTimer = null;
    function awake() {
      document.body.classList.remove("lb-idle");
      clearTimeout(idleTimer);
      idleTimer = setTimeout(function () { document.body.classList.add("lb-idle"); }, 3000);
    }
    document.addEventListener("mousemove", awake);
    awake();
  }
  connect();
})();
