/* Duty console: a new red alert flashes the header and, once the officer has turned sound on
   (browsers allow audio only after a click), plays a short tone generated here, no audio file.
   The console's callback writes every open red case id into #duty-red's data-ids. */
(function () {
  "use strict";
  var known = null;
  var audio = null;
  var soundOn = false;

  function beep(times) {
    if (!soundOn || !audio) {
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

  function check() {
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
    if (soundOn && !audio) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    button.textContent = soundOn ? button.dataset.on : button.dataset.off;
    button.classList.toggle("seg-on", soundOn);
    beep(soundOn ? 1 : 0);
  });

  window.mediationDuty = { flashes: 0, check: check };
  setInterval(check, 1000);
})();
