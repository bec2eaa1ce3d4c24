/* Map styling driven by `hideout`: geometry arrives once by URL, values arrive on every refresh.
   values[code] = [level, open, overdue, received30, closed30, reasons]; see dashboard/wall_snapshot.py. */
window.mediationMap = (function () {
  "use strict";
  var LEVEL_COLORS = { red: "#ef4444", orange: "#f97316", yellow: "#eab308", blue: "#3b82f6" };
  var NO_OPEN = "#1f4e5f";
  var TIER_COLORS = { county: "#f8fafc", township: "#a5f3fc", village: "#67e8f9" };
  var TIER_RADIUS = { county: 10, township: 5, village: 2.5 };

  function values(context) {
    return (context && context.hideout && context.hideout.values) || {};
  }
  function words(context) {
    return (context && context.hideout && context.hideout.labels) || {};
  }
  function codeOf(feature) {
    return feature.id || (feature.properties && feature.properties.code);
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function rate(closed, received) {
    return received > 0 ? ((100 * closed) / received).toFixed(2) + "%" : "—";
  }

  var styled = {};

  function gridStyle(feature, context) {
    var code = codeOf(feature);
    var v = values(context)[code];
    styled[code] = true;
    var level = v && v[0];
    return {
      fillColor: level ? LEVEL_COLORS[level] : NO_OPEN,
      fillOpacity: level ? (level === "blue" ? 0.55 : 0.85) : 0.35,
      color: "#0b1722",
      weight: 0.5,
    };
  }

  function tooltipHtml(name, v, w) {
    v = v || [null, 0, 0, 0, 0, []];
    var level = v[0] ? w["level." + v[0]] : w["level.none"];
    var reasons = (v[5] || []).map(function (code) {
      return escapeHtml(w["reason." + code] || code);
    });
    return (
      '<div class="map-tip"><b>' + escapeHtml(name) + "</b><br>" +
      '<span class="tip-level tip-' + (v[0] || "none") + '">' + escapeHtml(level) + "</span><br>" +
      escapeHtml(w["tip.open"]) + ": " + v[1] + " · " + escapeHtml(w["tip.overdue"]) + ": " + v[2] + "<br>" +
      escapeHtml(w["tip.received30"]) + ": " + v[3] + " · " + escapeHtml(w["tip.closed30"]) + ": " + v[4] + "<br>" +
      escapeHtml(w["tip.rate30"]) + ": " + rate(v[4], v[3]) +
      (reasons.length ? '<div class="tip-reasons">' + reasons.join("、") + "</div>" : "") + "</div>"
    );
  }

  function gridTooltip(feature, layer, context) {
    layer.bindTooltip(function () {
      return tooltipHtml(feature.properties.name, values(context)[codeOf(feature)], words(context));
    }, { sticky: true });
  }

  function townshipStyle() {
    return { fill: false, color: "#dbeafe", weight: 1.8, opacity: 0.9 };
  }

  function centerMarker(feature, latlng, context) {
    var tier = feature.properties.tier;
    var v = values(context)[codeOf(feature)];
    var open = v ? v[1] : 0;
    return L.circleMarker(latlng, {
      radius: TIER_RADIUS[tier] + Math.sqrt(open) * (tier === "village" ? 1.2 : 0.9),
      color: "#0f172a",
      weight: 1,
      fillColor: TIER_COLORS[tier] || "#ffffff",
      fillOpacity: 0.9,
    });
  }

  function centerTooltip(feature, layer, context) {
    layer.bindTooltip(function () {
      return tooltipHtml(feature.properties.name, values(context)[codeOf(feature)], words(context));
    });
  }

  function freshness(lastOk) {
    if (!lastOk || !lastOk.at) {
      return ["badge badge-wait", "…"];
    }
    if (Date.now() - lastOk.at > lastOk.stale_ms) {
      var since = new Date(lastOk.at).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
      return ["badge badge-stale", lastOk.stale + " " + since];
    }
    return ["badge badge-live", lastOk.live];
  }

  return {
    gridStyle: gridStyle,
    gridTooltip: gridTooltip,
    townshipStyle: townshipStyle,
    centerMarker: centerMarker,
    centerTooltip: centerTooltip,
    freshness: freshness,
    styledCount: function () {
      return Object.keys(styled).length;
    },
  };
})();
