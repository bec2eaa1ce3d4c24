/* Map styling. Geometry arrives once by URL; values live in window.mediationLive (live.js).
   values[code] = [level, open, overdue, received30, closed30, reasons]; see dashboard/wall_snapshot.py.
   Every drawn layer is registered by code so that an update restyles only what changed. */
window.mediationMap = (function () {
  "use strict";
  var LEVEL_COLORS = { red: "#ef4444", orange: "#f97316", yellow: "#eab308", blue: "#3b82f6" };
  var NO_OPEN = "#1f4e5f";
  var TIER_COLORS = { county: "#f8fafc", township: "#a5f3fc", village: "#67e8f9" };
  var TIER_RADIUS = { county: 10, township: 5, village: 2.5 };
  var grids = {};
  var centers = {};
  var townships = {};
  /* Early warnings (cell "_warnings", see dashboard/warnings/cells.py): warned area codes, outlined
     in a dashed magenta line: a township by its outline, a village or a grid by its grids. */
  var WARN_LINE = { color: "#e879f9", weight: 2.5, opacity: 1, dashArray: "6 4" };
  var warned = {};
  var warnedCell = null;

  function valueOf(code) {
    var live = window.mediationLive;
    return live ? live.values[code] : undefined;
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

  function gridWarned(code) {
    return Boolean(warned[code] || warned[String(code).slice(0, 12)]);
  }

  function gridStyleFor(code) {
    var v = valueOf(code);
    var level = v && v[0];
    var warn = gridWarned(code);
    return {
      fillColor: level ? LEVEL_COLORS[level] : NO_OPEN,
      fillOpacity: level ? (level === "blue" ? 0.55 : 0.85) : 0.35,
      color: warn ? WARN_LINE.color : "#0b1722",
      weight: warn ? WARN_LINE.weight : 0.5,
      dashArray: warn ? WARN_LINE.dashArray : null,
    };
  }

  function gridStyle(feature) {
    return gridStyleFor(codeOf(feature));
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
      (reasons.length ? '<div class="tip-reasons">' + reasons.join(w["tip.sep"]) + "</div>" : "") + "</div>"
    );
  }

  function bindTooltip(feature, layer, context) {
    var code = codeOf(feature);
    layer.bindTooltip(function () {
      return tooltipHtml(feature.properties.name, valueOf(code), words(context));
    }, { sticky: true });
  }

  function gridTooltip(feature, layer, context) {
    grids[codeOf(feature)] = layer;
    bindTooltip(feature, layer, context);
  }

  var TOWNSHIP_STYLE = { fill: false, color: "#dbeafe", weight: 1.8, opacity: 0.9 };
  var TOWNSHIP_FOCUS = { fill: true, fillColor: "#facc15", fillOpacity: 0.08, color: "#facc15", weight: 4, opacity: 1 };

  function townshipStyleFor(code) {
    return warned[code] ? WARN_LINE : TOWNSHIP_STYLE;
  }

  function townshipStyle(feature) {
    return townshipStyleFor(feature ? codeOf(feature) : null);
  }

  function townshipRegister(feature, layer) {
    townships[codeOf(feature)] = layer;
  }

  /* The hotspot tour: outline one township (or none) and hand back its layer for fitting. */
  function focusTownship(code) {
    Object.keys(townships).forEach(function (c) {
      townships[c].setStyle(c === code ? TOWNSHIP_FOCUS : townshipStyleFor(c));
    });
    return code ? townships[code] : null;
  }

  function centerRadius(tier, code) {
    var v = valueOf(code);
    var open = v ? v[1] : 0;
    return TIER_RADIUS[tier] + Math.sqrt(open) * (tier === "village" ? 1.2 : 0.9);
  }

  function centerMarker(feature, latlng) {
    var tier = feature.properties.tier;
    return L.circleMarker(latlng, {
      radius: centerRadius(tier, codeOf(feature)),
      color: "#0f172a",
      weight: 1,
      fillColor: TIER_COLORS[tier] || "#ffffff",
      fillOpacity: 0.9,
    });
  }

  function centerTooltip(feature, layer, context) {
    centers[codeOf(feature)] = { layer: layer, tier: feature.properties.tier };
    bindTooltip(feature, layer, context);
  }

  /* When the warned set changed (live.js keeps the "_warnings" cell), outline it anew. */
  function outlineWarnings() {
    var live = window.mediationLive;
    var cell = (live && live.cells && live.cells._warnings) || null;
    if (cell === warnedCell) {
      return 0;
    }
    warnedCell = cell;
    var next = {};
    ((cell && cell.areas) || []).forEach(function (code) {
      next[code] = true;
    });
    warned = next;
    Object.keys(townships).forEach(function (c) {
      townships[c].setStyle(townshipStyleFor(c));
    });
    Object.keys(grids).forEach(function (c) {
      grids[c].setStyle(gridStyleFor(c));
    });
    return 1;
  }

  /* Restyle only the given codes: dash-leaflet would re-add every feature on a hideout change. */
  function restyle(codes) {
    var touched = 0;
    outlineWarnings();
    codes.forEach(function (code) {
      if (grids[code]) {
        grids[code].setStyle(gridStyleFor(code));
        touched += 1;
      }
      if (centers[code]) {
        centers[code].layer.setRadius(centerRadius(centers[code].tier, code));
        touched += 1;
      }
    });
    return touched;
  }

  function restyleAll() {
    return restyle(Object.keys(grids).concat(Object.keys(centers)));
  }

  return {
    levelColors: LEVEL_COLORS,
    noOpen: NO_OPEN,
    gridStyle: gridStyle,
    gridTooltip: gridTooltip,
    townshipStyle: townshipStyle,
    townshipRegister: townshipRegister,
    focusTownship: focusTownship,
    centerMarker: centerMarker,
    centerTooltip: centerTooltip,
    restyle: restyle,
    restyleAll: restyleAll,
    warnedAreas: function () {
      return Object.keys(warned);
    },
    /* Codes of the drawn layers styled with the warning line (the map draws on a canvas). */
    outlined: function () {
      var all = Object.assign({}, townships, grids);
      return Object.keys(all).filter(function (code) {
        var o = all[code].options || {};
        return o.color === WARN_LINE.color && o.dashArray === WARN_LINE.dashArray;
      });
    },
    styledCount: function () {
      return Object.keys(grids).length;
    },
  };
})();
