// Draws a process with bpmn-js's viewer (vendored: web/static/vendor/bpmn-js/, loaded as window.BpmnJS)
// in <div id="process-diagram" data-diagram-url="..." data-detail="ID">, from the JSON at data-diagram-url,
// and marks where a case is (the instance page) or how many cases are where (the operator's view). The
// page's own lists say the same in words, so nothing here is the only way to know it. No inline script or
// style (the CSP): every look is a class in web/static/diagram.css. data-detail (optional) names an
// aria-live element under the diagram where a selected element's details are written.
//
// The JSON (every key but "xml" may be left out; ids are BPMN element ids of the drawn file):
//   {
//     "xml": "<bpmn:definitions ...>",   the BPMN to draw: the instance's own deployed version
//     "drawn": true,                     false: the file has no diagram layout (no BPMN DI); say so, draw nothing
//     "completed": ["id", ...],          elements passed: tasks done, timers fired, messages received
//     "through": ["id", ...],            elements passed on the way: the start, gateways, scripts, an end
//     "flows": ["flow_id", ...],         sequence flows taken
//     "current": [{"id", "name", "task_id", "role", "holder", "due", "due_at", "href"}],   open tasks:
//                                        holder is a display name or "Unassigned"; due "14 January 2027"
//                                        or null; href the task's page. Selecting one shows these.
//     "timers": [{"id", "name", "due", "due_at"}],               timers waiting: "due" is shown beside each
//     "messages": [{"id", "name", "message", "boundary", "since"}],   messages waited for
//     "counts": [{"id", "tasks": n, "timers": n, "messages": n, "incidents": n, "href": "..."}]
//                                        the operator's view: a badge of each non-zero count on the
//                                        element; the badge links to href (if any), and so does a click
//                                        on the element
//   }
(function () {
  "use strict";
  var container = document.getElementById("process-diagram");
  if (!container || typeof window.BpmnJS !== "function" || !window.fetch) {
    return;
  }
  var detail = document.getElementById(container.getAttribute("data-detail") || "");
  var MARKERS = {
    completed: "vsw-done", through: "vsw-done", flows: "vsw-flow", current: "vsw-current",
    timers: "vsw-waiting", messages: "vsw-message"
  };
  var COUNTS = [
    ["tasks", "open task", "open tasks"], ["timers", "timer waiting", "timers waiting"],
    ["messages", "message waited for", "messages waited for"], ["incidents", "incident", "incidents"]
  ];
  var NO_DRAWING = "This version of the process has no drawing: its file was deployed without diagram layout.";
  var NOT_DRAWN = "The diagram could not be drawn.";

  function idOf(entry) {
    return typeof entry === "string" ? entry : entry.id;
  }

  function byId(list) {
    var found = {};
    (list || []).forEach(function (entry) {
      if (entry && typeof entry === "object" && !found[entry.id]) {
        found[entry.id] = entry;
      }
    });
    return found;
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    Object.keys(MARKERS).forEach(function (kind) {
      (data[kind] || []).forEach(function (entry) {
        var id = idOf(entry);
        if (registry.get(id)) {
          canvas.addMarker(id, MARKERS[kind]);
        }
      });
    });
  }

  // A timer's due date beside it, on a white label.
  function dueDates(viewer, data) {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    (data.timers || []).forEach(function (timer) {
      var element = registry.get(timer.id);
      if (element && timer.due) {
        overlays.add(timer.id, "vsw-due", {
          position: { top: -24, left: Math.round(element.width / 2) - 50 },
          html: make("span", "vsw-diagram-due", "Due " + timer.due)
        });
      }
    });
  }

  // The operator's view: how many cases are at each element, as badges (like Camunda Cockpit's).
  function countBadges(viewer, data) {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    (data.counts || []).forEach(function (entry) {
      var element = registry.get(entry.id);
      var shown = COUNTS.filter(function (kind) { return Number(entry[kind[0]]) > 0; });
      if (!element || !shown.length) {
        return;
      }
      var holder = make(entry.href ? "a" : "span", "vsw-counts");
      if (entry.href) {
        holder.href = entry.href;
        holder.classList.add("govuk-link");
      }
      shown.forEach(function (kind) {
        var n = Number(entry[kind[0]]);
        var badge = make("span", "vsw-count vsw-count--" + kind[0], String(n));
        badge.appendChild(make("span", "govuk-visually-hidden", " " + (n === 1 ? kind[1] : kind[2])));
        holder.appendChild(badge);
      });
      canvas(viewer).addMarker(entry.id, "vsw-counted");
      overlays.add(entry.id, "vsw-counts", { position: { bottom: 10, left: -10 }, html: holder });
    });
  }

  function canvas(viewer) {
    return viewer.get("canvas");
  }

  function row(list, key, value) {
    var div = make("div", "govuk-summary-list__row");
    div.appendChild(make("dt", "govuk-summary-list__key", key));
    div.appendChild(make("dd", "govuk-summary-list__value", value));
    list.appendChild(div);
  }

  // What the panel under the diagram says about a selected element (nothing for an unmarked one).
  function describe(id, lookups) {
    var task = lookups.current[id];
    var timer = lookups.timers[id];
    var message = lookups.messages[id];
    if (!detail || !(task || timer || message)) {
      return;
    }
    detail.textContent = "";
    var box = make("div", "vsw-diagram-detail__box");
    var list = make("dl", "govuk-summary-list govuk-summary-list--no-border govuk-!-margin-bottom-2");
    if (task) {
      box.appendChild(make("h3", "govuk-heading-s govuk-!-margin-bottom-2", task.name));
      row(list, "What", "Open task");
      row(list, "Role", task.role || "Anyone");
      row(list, "Held by", task.holder || "Unassigned");
      row(list, "Due", task.due || "No due date");
      box.appendChild(list);
      if (task.href) {
        var link = make("a", "govuk-link", "Go to the task");
        link.href = task.href;
        link.appendChild(make("span", "govuk-visually-hidden", ": " + task.name));
        box.appendChild(make("p", "govuk-body govuk-!-margin-bottom-0")).appendChild(link);
      }
    } else if (timer) {
      box.appendChild(make("h3", "govuk-heading-s govuk-!-margin-bottom-2", timer.name));
      row(list, "What", "Waiting for a date");
      row(list, "Due", timer.due || "");
      box.appendChild(list);
    } else {
      box.appendChild(make("h3", "govuk-heading-s govuk-!-margin-bottom-2", message.name));
      row(list, "What", message.boundary ? "Waiting for a message, while the step it belongs to is open"
        : "Waiting for a message");
      row(list, "Since", message.since || "");
      box.appendChild(list);
    }
    detail.appendChild(box);
  }

  // Open tasks, timers and messages can be reached with the keyboard: Tab to one, Enter or Space shows it.
  function focusable(viewer, data, lookups) {
    var registry = viewer.get("elementRegistry");
    ["current", "timers", "messages"].forEach(function (kind) {
      (data[kind] || []).forEach(function (entry) {
        var element = registry.get(entry.id);
        var gfx = element && registry.getGraphics(element);
        if (!gfx || gfx.hasAttribute("tabindex")) {
          return;
        }
        var label = kind === "current" ? "Open task: " + entry.name + ". Show who holds it"
          : (kind === "timers" ? "Waiting for a date: " : "Waiting for a message: ") + entry.name;
        gfx.setAttribute("tabindex", "0");
        gfx.setAttribute("role", "button");
        gfx.setAttribute("aria-label", label);
        gfx.classList.add("vsw-focusable");
        gfx.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            describe(entry.id, lookups);
          }
        });
      });
    });
  }

  function clicks(viewer, data, lookups) {
    var hrefs = {};
    (data.counts || []).forEach(function (entry) {
      if (entry.href) {
        hrefs[entry.id] = entry.href;
      }
    });
    viewer.get("eventBus").on("element.click", function (event) {
      var id = event.element && event.element.id;
      if (!id) {
        return;
      }
      if (hrefs[id]) {
        window.location.assign(hrefs[id]);
        return;
      }
      describe(id, lookups);
    });
  }

  // Readable text for the case as it is now: zoom in on the first open task (the whole process stays
  // a drag away: the navigated viewer pans by dragging and zooms with Ctrl and the mouse wheel).
  function focus(viewer, data) {
    var registry = viewer.get("elementRegistry");
    var first = (data.current || []).map(function (entry) {
      return registry.get(idOf(entry));
    }).filter(Boolean)[0];
    if (first && canvas(viewer).zoom() < 0.8 && typeof canvas(viewer).scrollToElement === "function") {
      canvas(viewer).zoom(0.9);
      canvas(viewer).scrollToElement(first, { top: 120, left: 160, right: 160, bottom: 120 });
    }
  }

  function say(text) {
    container.textContent = "";
    container.appendChild(make("p", "govuk-body-s vsw-diagram-fallback", text));
    container.classList.add("vsw-diagram--message");
  }

  fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("diagram " + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      if (data.drawn === false) {
        say(NO_DRAWING);
        return null;
      }
      container.textContent = "";
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(data.xml).then(function () {
        var lookups = { current: byId(data.current), timers: byId(data.timers), messages: byId(data.messages) };
        canvas(viewer).zoom("fit-viewport");
        mark(viewer, data);
        dueDates(viewer, data);
        countBadges(viewer, data);
        focusable(viewer, data, lookups);
        clicks(viewer, data, lookups);
        focus(viewer, data);
        container.classList.add("vsw-diagram--drawn");
      }, function (error) {
        viewer.destroy();
        say(/no diagram to display/i.test(String(error && error.message)) ? NO_DRAWING : NOT_DRAWN);
      });
    })
    .catch(function () {
      say(NOT_DRAWN);
    });
})();
