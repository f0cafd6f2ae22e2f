// The Virtual School dashboard's charts (web/templates/cohort/dashboard.html), drawn by Chart.js from the
// numbers in each canvas's data-chart attribute: the same numbers as the table beside it, which is what
// screen readers and printouts use. No inline script: the strict CSP allows only files from this site.
(function () {
  "use strict";
  var COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#505a5f"];
  var RAG = { Red: "#d4351c", Amber: "#ffdd00", Green: "#00703c" };

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart") || "{}");
    } catch (e) {
      return;
    }
    var datasets = (spec.series || []).map(function (series, i) {
      var colour = COLOURS[i % COLOURS.length];
      var colours = spec.labels.map(function (label) { return RAG[label] || colour; });
      return {
        label: series.label,
        data: series.data,
        borderColor: spec.type === "line" ? colour : colours,
        backgroundColor: spec.type === "line" ? colour : colours,
        spanGaps: true
      };
    });
    canvas.chart = new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function start() {
    if (!window.Chart) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
