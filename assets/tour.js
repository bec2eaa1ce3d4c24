/* Hotspot tour for unattended walls: every cycle the map shows the whole area for a while, then
   visits the worst townships in turn (outlined, with a caption of their figures) and returns.
   The stops come from the live state (cell "_tour", worst first). Any touch, click, wheel or key
   pauses the tour for two minutes, so a person at the wall keeps the view they chose. How long the
   whole area and each stop are shown comes from the wall's URL (?tour_home=40&tour_stop=10,
   seconds) through data attributes of #wall-live. window.mediationTour counts stops and returns
   and reports the map's view, for tests and for anyone checking a wall from the console. */
window.mediationTour = (function () {
  "use strict";
  var HOME_MS = 40000;
  var STOP_MS = 10000;
  var PAUSE_MS = 120000;
  var pausedUntil = 0;
  var home = null;
  var map = null;
  var state = { stops: 0, returns: 0, homeView: null, view: view };

  function view() {
    if (!map) {
      return null;
    }
    var c = map.getCenter();
    return [c.lat, c.lng, map.getZoom()];
  }

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function stops() {
    var live = window.mediationLive;
    var tour = live && live.cells && live.cells._tour;
    return tour && tour.order ? tour : { order: [], captions: {} };
  }

  function show(code, caption) {
    var layer = window.mediationMap.focusTownship(code);
    if (!layer || !layer._map) {
      return false;
    }
    map = layer._map;
    if (!home) {
      home = map.getBounds();
      state.homeView = view();
    }
    map.flyToBounds(layer.getBounds(), { padding: [40, 40], duration: 1.5 });
    setProps("wall-tour", { children: caption, hidden: false });
    state.stops += 1;
    return true;
  }

  function goHome() {
    window.mediationMap.focusTownship(null);
    setProps("wall-tour", { children: "", hidden: true });
    if (map && home) {
      map.flyToBounds(home, { duration: 1.5 });
      state.returns += 1;
    }
  }

  function run(index) {
    if (Date.now() < pausedUntil) {
      setTimeout(function () { run(0); }, pausedUntil - Date.now());
      return;
    }
    var tour = stops();
    if (index >= tour.order.length) {
      goHome();
      setTimeout(function () { run(0); }, HOME_MS);
      return;
    }
    var code = tour.order[index];
    var shown = show(code, tour.captions[code] || "");
    setTimeout(function () { run(index + 1); }, shown ? STOP_MS : 0);
  }

  /* A person took over: drop the outline and caption but leave the view where they put it. */
  function pause() {
    window.mediationMap.focusTownship(null);
    setProps("wall-tour", { children: "", hidden: true });
    home = null;
    pausedUntil = Date.now() + PAUSE_MS;
  }

  function start() {
    var anchor = document.getElementById("wall-live");
    if (!anchor || !window.mediationMap) {
      setTimeout(start, 500);
      return;
    }
    if (anchor.dataset.tour !== "on") {
      return;
    }
    HOME_MS = Number(anchor.dataset.tourHomeMs) || HOME_MS;
    STOP_MS = Number(anchor.dataset.tourStopMs) || STOP_MS;
    ["pointerdown", "wheel", "keydown", "touchstart"].forEach(function (kind) {
      window.addEventListener(kind, pause, { passive: true });
    });
    setTimeout(function () { run(0); }, HOME_MS);
  }

  start();
  return state;
})();
