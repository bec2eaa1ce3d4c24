/* The leader's tablet map: the children of the area shown, coloured by the measure the leader
   picked. Everything it draws comes from the GeoJSON layer's hideout (layouts/map_view.py
   tablet_hideout): parent (which features), values, measure, breaks and colours, words.
   Nothing here moves the map on a live update: only the body is refreshed, and new values only
   restyle the areas. Opening another area builds a new map fitted to it. Any other change of the
   address (measure, range, language) also rebuilds the page, so a new map of the same area as the
   last one takes over the last one's view: pan and zoom stay until the leader opens another area.
   Taps are handled by Dash (callbacks/tablet.py tap_area) from the layer's clickData. */
window.tabletMap = (function () {
  "use strict";
  var NO_DATA = "#475569";
  var CURRENT = "#facc15";
  var layers = {};
  var shown = {};
  var lastMap = null; /* the Leaflet map drawn last */
  var kept = null; /* {area, center, zoom}: the view of the map drawn last, as the leader left it */

  /* The first time a map draws its areas: take over the last map's view if it showed the same area,
     and from then on remember this map's view whenever it stops moving. */
  function adopt(map, area) {
    if (!map || map === lastMap) {
      return;
    }
    lastMap = map;
    if (kept && kept.area === area) {
      map.setView(kept.center, kept.zoom, { animate: false });
    }
    var remember = function () {
      kept = { area: area, center: map.getCenter(), zoom: map.getZoom() };
    };
    remember();
    map.on("moveend", remember);
  }

  function codeOf(feature) {
    return feature.id || (feature.properties && feature.properties.code);
  }
  function hideoutOf(context) {
    return (context && context.hideout) || {};
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* Only the children of the area shown: features whose parent_code is the hideout's parent. */
  function filter(feature, context) {
    var parent = hideoutOf(context).parent;
    return !parent || (feature.properties && feature.properties.parent_code === parent);
  }

  function colorOf(h, value) {
    if (h.measure === "alert") {
      var wall = window.mediationMap || {};
      var levels = wall.levelColors || {};
      return value && levels[value] ? levels[value] : wall.noOpen || NO_DATA;
    }
    if (value === null || value === undefined) {
      return NO_DATA;
    }
    var breaks = h.breaks || [0];
    var index = 0;
    for (var i = 0; i < breaks.length; i += 1) {
      if (value >= breaks[i]) {
        index = i;
      }
    }
    return (h.colors || [])[index] || NO_DATA;
  }

  function style(feature, context) {
    var h = hideoutOf(context);
    shown = h;
    var code = codeOf(feature);
    var value = (h.values || {})[code];
    var current = h.current === code;
    return {
      fillColor: colorOf(h, value),
      fillOpacity: h.current && !current ? 0.3 : 0.8,
      color: current ? CURRENT : "#e2e8f0",
      weight: current ? 4 : 1.2,
      opacity: 1,
    };
  }

  function valueText(h, value) {
    var w = h.labels || {};
    if (h.measure === "alert") {
      return w["level." + (value || "none")] || "";
    }
    if (value === null || value === undefined) {
      return w.no_data || "—";
    }
    return h.measure === "closure_rate" ? value.toFixed(2) + "%" : Math.round(value).toLocaleString("en");
  }

  /* Each area: a class naming its code (the SVG path carries it), its name on the map when the
     children are few, else a tooltip with its name and value. */
  function onEach(feature, layer, context) {
    var h = hideoutOf(context);
    var code = codeOf(feature);
    adopt(context && context.map, h.area);
    layers[code] = layer;
    layer.options.className = "tablet-area tablet-area-" + code;
    var name = escapeHtml(feature.properties.name || code);
    if (h.names) {
      layer.bindTooltip(name, { permanent: true, direction: "center", className: "tablet-area-name" });
    } else {
      var w = h.labels || {};
      layer.bindTooltip(function () {
        return "<b>" + name + "</b><br>" + escapeHtml(w.measure || "") + ": " +
          escapeHtml(valueText(h, (h.values || {})[code]));
      }, { sticky: true });
    }
  }

  function anyMap() {
    var codes = Object.keys(layers);
    for (var i = 0; i < codes.length; i += 1) {
      if (layers[codes[i]]._map) {
        return layers[codes[i]]._map;
      }
    }
    return null;
  }

  return {
    filter: filter,
    style: style,
    onEach: onEach,
    /* [lat, lng, zoom] of the map's view, for tests and for anyone checking from the console. */
    view: function () {
      var map = anyMap();
      if (!map) {
        return null;
      }
      var c = map.getCenter();
      return [c.lat, c.lng, map.getZoom()];
    },
    /* The value an area is drawn with now (as last styled). */
    value: function (code) {
      return (shown.values || {})[code];
    },
    /* The Leaflet map (null until an area is drawn). */
    map: anyMap,
    /* The codes of the areas drawn now. */
    drawn: function () {
      return Object.keys(layers).filter(function (code) {
        return Boolean(layers[code]._map);
      });
    },
    /* A point of the page inside the area drawn for code: [x, y], or null. */
    pointIn: function (code) {
      var path = document.querySelector("path.tablet-area-" + code);
      if (!path) {
        return null;
      }
      var box = path.getBoundingClientRect();
      for (var fy = 0.5; fy < 1; fy += 0.05) {
        for (var k = -1; k <= 1; k += 2) {
          var y = box.top + box.height * (k > 0 ? fy : 1 - fy);
          for (var fx = 0.1; fx < 1; fx += 0.05) {
            var x = box.left + box.width * fx;
            if (document.elementFromPoint(x, y) === path) {
              return [x, y];
            }
          }
        }
      }
      return null;
    },
  };
})();
