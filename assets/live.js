/* Live values for the wall: a server-sent event stream (/api/live/stream), polling as the
   fallback, a freshness badge, and self-healing after server, Redis or network outages.
   Messages are versioned: a delta whose "from" is not the state held here means a gap, and the
   full state is fetched instead. A message from a new build reloads the page (a deploy).
   Freshness follows the data, not the connection: every message carries the server's
   "stale_since" (its refreshes are failing since then), so pings that keep arriving during a
   database or Redis outage do not make the badge say live. */
window.mediationLive = (function () {
  "use strict";
  var live = { values: {}, kpis: {}, cells: {}, id: null, lastMessageAt: 0, freshAt: 0, serverStale: null,
               mode: "connecting", staleSince: null, received: 0, lastApplyMs: 0 };
  var anchor = null;
  var source = null;
  var pollTimer = null;
  var failures = 0;
  var opened = false;

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function query(since) {
    var d = anchor.dataset;
    var q = "?county=" + encodeURIComponent(d.county) + "&area=" + encodeURIComponent(d.area) +
      "&period=" + encodeURIComponent(d.period) + "&lang=" + d.lang;
    return since ? q + "&since=" + encodeURIComponent(since) : q;
  }

  function apply(kind, msg) {
    var started = performance.now();
    if (msg.build && msg.build !== anchor.dataset.build) {
      window.location.reload();
      return;
    }
    var changed;
    if (kind === "full") {
      live.values = msg.values;
      changed = null;
    } else {
      if (msg.from !== live.id) {
        fetchFull();
        return;
      }
      changed = Object.keys(msg.values);
      changed.forEach(function (code) {
        if (msg.values[code] === null) {
          delete live.values[code];
        } else {
          live.values[code] = msg.values[code];
        }
      });
    }
    var kpis = msg.kpis || {};
    Object.keys(kpis).forEach(function (name) {
      if (live.kpis[name] !== kpis[name]) {
        live.kpis[name] = kpis[name];
        setProps("kpi-" + name, { children: kpis[name] });
      }
    });
    applyCells(kind === "full", msg.cells || {});
    setProps("wall-updated", { children: msg.updated });
    live.id = msg.to || msg.id;
    live.received += 1;
    if (window.mediationMap) {
      if (changed === null) {
        window.mediationMap.restyleAll();
      } else {
        window.mediationMap.restyle(changed);
      }
    }
    live.lastApplyMs = performance.now() - started;
    heard(msg);
  }

  /* Panel cells: element id -> props. Ids starting with "_" are data for other scripts (the tour). */
  function applyCells(full, cells) {
    if (full) {
      live.cells = {};
    }
    Object.keys(cells).forEach(function (id) {
      var props = cells[id];
      var before = live.cells[id];
      live.cells[id] = props;
      if (id.charAt(0) !== "_" && JSON.stringify(before) !== JSON.stringify(props)) {
        setProps(id, props);
      }
    });
  }

  /* A message arrived: the connection works; the data is fresh unless the server says otherwise. */
  function heard(msg) {
    live.lastMessageAt = Date.now();
    live.serverStale = (msg && msg.stale_since) || null;
    if (!live.serverStale) {
      live.freshAt = live.lastMessageAt;
    }
    badge();
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString("zh-CN", { hourCycle: "h23", timeZone: "Asia/Shanghai" });
  }

  function fetchFull() {
    return fetch("/api/live/state" + query(), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (msg) { apply("full", msg); })
      .catch(function () { /* the stream or the poll will try again */ });
  }

  function badge() {
    var d = anchor.dataset;
    var silent = Date.now() - live.lastMessageAt > Number(d.staleMs);
    var cls, text;
    live.staleSince = live.serverStale || (live.lastMessageAt && silent ? clock(live.freshAt || live.lastMessageAt) : null);
    if (!live.lastMessageAt) {
      cls = "badge badge-wait"; text = d.reconnecting;
    } else if (live.staleSince) {
      cls = "badge badge-stale"; text = d.stale + " " + live.staleSince;
    } else if (live.mode === "polling") {
      cls = "badge badge-live"; text = d.polling;
    } else if (live.mode === "reconnecting") {
      cls = "badge badge-wait"; text = d.reconnecting;
    } else {
      cls = "badge badge-live"; text = d.live;
    }
    var el = document.getElementById("wall-freshness");
    if (el && (el.className !== cls || el.textContent !== text)) {
      setProps("wall-freshness", { className: cls, children: text });
    }
  }

  function connect() {
    if (source) {
      source.close();
    }
    opened = false;
    live.mode = "connecting";
    source = new EventSource("/api/live/stream" + query(live.id));
    source.onopen = function () {
      opened = true;
      failures = 0;
      live.mode = "live";
      stopPolling();
    };
    source.addEventListener("full", function (e) { apply("full", JSON.parse(e.data)); });
    source.addEventListener("delta", function (e) { apply("delta", JSON.parse(e.data)); });
    source.addEventListener("ping", function (e) { heard(JSON.parse(e.data || "{}")); });
    source.onerror = function () {
      failures += 1;
      live.mode = "reconnecting";
      badge();
      if (!opened && failures >= 3) {
        startPolling();
      }
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, Math.min(30000, 1000 * failures));
      }
    };
  }

  function poll() {
    fetch("/api/live/poll" + query(live.id), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (msg) { apply(msg.kind, msg); })
      .catch(function () { badge(); });
  }

  function startPolling() {
    if (pollTimer) {
      return;
    }
    live.mode = "polling";
    poll();
    pollTimer = setInterval(poll, 2000);
    setTimeout(connect, 60000);
  }

  function stopPolling() {
    if (pollTimer) {
      clearInterval(pollTimer);
      pollTimer = null;
    }
  }

  function start() {
    anchor = document.getElementById("wall-live");
    if (!anchor) {
      setTimeout(start, 100);
      return;
    }
    /* The first full state comes as one compressed response; the stream then starts from it
       with a small delta (a stream's first full message would travel uncompressed). */
    fetchFull().then(connect);
    setInterval(badge, 1000);
    /* Nothing heard for a long time although the page is open: start over with a fresh stream. */
    setInterval(function () {
      if (live.lastMessageAt && Date.now() - live.lastMessageAt > 60000) {
        connect();
      }
    }, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  return live;
})();
