/* The fallback font's style sheet (101 @font-face slices of Noto Sans SC, ~18 KB) on demand.
   The wall's page carries it inert in <template id="font-fallback"> (dashboard/screen_index.py),
   because the wall's own subset "Wall Sans SC" covers everything the wall normally shows. Once a
   character outside the subset's unicode-range reaches the page (another county's place names, a
   new label), the sheet is added and the browser fetches the slices that hold it. Other screens
   link the sheet as usual and have no template, so this does nothing there. */
(function () {
  "use strict";
  var template = document.getElementById("font-fallback");
  if (!template || !window.MutationObserver) {
    return;
  }
  var outside = null;
  var observer = null;

  function subsetPattern() {
    var ranges = [];
    document.fonts.forEach(function (face) {
      if (face.family.replace(/["']/g, "") === "Wall Sans SC") {
        ranges = ranges.concat(face.unicodeRange.split(","));
      }
    });
    var parts = ranges.map(function (range) {
      var bounds = range.trim().replace(/^U\+/i, "").split("-");
      return bounds.map(function (hex) { return "\\u{" + hex + "}"; }).join("-");
    });
    return new RegExp("[^\\s\\u{0}-\\u{1F}" + parts.join("") + "]", "u");
  }

  function load() {
    observer.disconnect();
    document.head.appendChild(template.content.cloneNode(true));
    template.remove();
  }

  function check(text) {
    outside = outside || subsetPattern();
    if (text && outside.test(text)) {
      load();
      return true;
    }
    return false;
  }

  observer = new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var record = records[i];
      if (record.type === "characterData" ? check(record.target.data) : false) {
        return;
      }
      for (var j = 0; j < record.addedNodes.length; j++) {
        var node = record.addedNodes[j];
        if (node.nodeName !== "SCRIPT" && node.nodeName !== "STYLE" && check(node.textContent)) {
          return;
        }
      }
    }
  });
  observer.observe(document.body, { childList: true, characterData: true, subtree: true });
  var root = document.getElementById("react-entry-point");
  check(root ? root.textContent : "");
})();
