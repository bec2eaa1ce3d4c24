/* Duty console: a new red alert flashes the header and, once the officer has turned sound on,
   plays a short tone generated here, no audio file. The choice is remembered in localStorage;
   browsers start audio only after a gesture, so a remembered "on" wakes the audio at the
   officer's first click or key press on the page. The console's callback writes every open red
   case id into #duty-red's data-ids. window.mediationDuty counts flashes and tones actually played. */
(function () {
  "use strict";
  var STORE = "mediation.duty.sound";
  var known = null;
  var audio = null;
  var soundOn = false;

  function remembered() {
    try {
      return window.localStorage.getItem(STORE) === "on";
    } catch (e) {
      return false;
    }
  }

  function remember(on) {
    try {
      window.localStorage.setItem(STORE, on ? "on" : "off");
    } catch (e) {
      /* private mode: the choice lasts for this page only */
    }
  }

  function wake() {
    if (!soundOn) {
      return;
    }
    if (!audio) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    if (audio.state === "suspended") {
      audio.resume();
    }
  }

  function beep(times) {
    if (!soundOn || !audio || audio.state !== "running") {
      return;
    }
    for (var i = 0; i < times; i += 1) {
      var start = audio.currentTime + i * 0.45;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.32);
    }
    window.mediationDuty.tones += 1;
  }

  function flash() {
    var header = document.getElementById("duty-header");
    if (!header) {
      return;
    }
    header.classList.remove("duty-flash");
    void header.offsetWidth;
    header.classList.add("duty-flash");
    window.mediationDuty.flashes += 1;
  }

  /* The button is drawn by the server as "off"; a redrawn page gets the remembered state back. */
  function showSound() {
    var button = document.getElementById("duty-sound");
    if (!button) {
      return;
    }
    var text = soundOn ? button.dataset.on : button.dataset.off;
    if (button.textContent !== text) {
      button.textContent = text;
    }
    button.classList.toggle("seg-on", soundOn);
  }

  function check() {
    showSound();
    var el = document.getElementById("duty-red");
    if (!el) {
      known = null;
      return;
    }
    var ids = (el.dataset.ids || "").split(",").filter(Boolean);
    if (known !== null) {
      var fresh = ids.filter(function (id) { return !known[id]; });
      if (fresh.length) {
        flash();
        beep(3);
      }
    }
    known = {};
    ids.forEach(function (id) { known[id] = true; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#duty-sound");
    if (!button) {
      return;
    }
    soundOn = !soundOn;
    remember(soundOn);
    wake();
    showSound();
    beep(soundOn ? 1 : 0);
  });
  ["pointerdown", "keydown"].forEach(function (kind) {
    document.addEventListener(kind, wake, { passive: true });
  });

  soundOn = remembered();
  window.mediationDuty = { flashes: 0, tones: 0, check: check };
  setInterval(check, 1000);
})();
