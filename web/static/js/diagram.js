// Draws the instance's process with bpmn-js's viewer (vendored: web/static/vendor/bpmn-js/) and marks
// where the case is: the steps done, the open tasks, the timers waiting. The page's own list says the
// same in words, so nothing here is the only way to know it. No inline script or style (the CSP).
(function () {
  "use strict";
  var container = document.getElementById("process-diagram");
  if (!container || typeof window.BpmnJS !== "function" || !window.fetch) {
    return;
  }
  var MARKERS = { completed: "vsw-done", current: "vsw-current", timers: "vsw-waiting" };

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    Object.keys(MARKERS).forEach(function (kind) {
      (data[kind] || []).forEach(function (entry) {
        var id = typeof entry === "string" ? entry : entry.id;
        if (registry.get(id)) {
          canvas.addMarker(id, MARKERS[kind]);
        }
      });
    });
  }

  // Readable text for the case as it is now: zoom in on the first open task (the whole process stays
  // a drag away: the navigated viewer pans by dragging and zooms with Ctrl and the mouse wheel).
  function focus(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var first = (data.current || []).map(function (entry) {
      return registry.get(typeof entry === "string" ? entry : entry.id);
    }).filter(Boolean)[0];
    if (first && canvas.zoom() < 0.8 && typeof canvas.scrollToElement === "function") {
      canvas.zoom(0.9);
      canvas.scrollToElement(first, { top: 120, left: 160, right: 160, bottom: 120 });
    }
  }

  fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("diagram " + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      container.textContent = "";
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(data.xml).then(function () {
        var canvas = viewer.get("canvas");
        canvas.zoom("fit-viewport");
        mark(viewer, data);
        focus(viewer, data);
        container.classList.add("vsw-diagram--drawn");
      });
    })
    .catch(function () {
      container.textContent = "The diagram could not be drawn. The list beside it says where the case is now.";
    });
})();
