// Draws every <canvas data-chart> from the JSON beside it, after page load and after each htmx swap.
// A bar with data-drill loads the list behind it into #drill (the buttons under the chart do the same).
(function () {
  "use strict";
  var palette = ["#0b5cad", "#b35900", "#116329", "#8250df", "#a40e26", "#1b7c83"];

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.source);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var kind = canvas.dataset.chart;
    var unit = canvas.dataset.unit || "";
    var config;
    if (kind === "experiment") {
      var datasets = [{ type: "bar", label: "%", data: data.rates, backgroundColor: [palette[0], palette[1]] }];
      if (data.ci) {
        datasets.push({ type: "bar", label: "lift 95% CI", data: [data.ci, null], backgroundColor: "rgba(17,99,41,0.35)", xAxisID: "x" });
      }
      config = { data: { labels: data.labels, datasets: datasets }, options: { responsive: true, maintainAspectRatio: false } };
    } else if (kind === "line") {
      // KPIs over time: one line per series; a series with axis "y1" (revenue) has its own scale on the right.
      var scales = { y: { beginAtZero: true } };
      if (data.series.some(function (s) { return s.axis === "y1"; })) {
        scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
      }
      config = {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s, i) {
            var color = palette[i % palette.length];
            return { label: s.label, data: s.data, borderColor: color, backgroundColor: color, yAxisID: s.axis || "y", tension: 0.2, pointRadius: data.labels.length > 31 ? 0 : 2 };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          scales: scales,
          plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + c.formattedValue + unit; } } } }
        }
      };
    } else {
      config = {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s, i) {
            return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: kind === "hbar" ? "y" : "x",
          plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + c.formattedValue + unit; } } } }
        }
      };
    }
    if (canvas.dataset.drill) {
      var keys = data.series[0].keys || data.labels;
      config.options.onClick = function (event, elements) {
        if (!elements.length) return;
        var key = keys[elements[0].index];
        htmx.ajax("GET", canvas.dataset.drill + "&key=" + encodeURIComponent(key), "#drill");
      };
    }
    canvas.dataset.drawn = "1";
    new Chart(canvas, config);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
