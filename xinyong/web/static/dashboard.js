// The operators' dashboard chart, drawn with Chart.js (vendor/chartjs) from the figures the
// page carries as JSON (#dashboard-data); the same numbers are in the table below it.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var canvas = document.getElementById("chart-deliveries");
  if (!source || !canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var palette = ["#9b1c1c", "#0b4f9c", "#2f7d32", "#b45309", "#6b21a8", "#0e7490", "#4b5563", "#be185d"];
  Chart.defaults.animation = false;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.months,
      datasets: data.series.map(function (s, i) {
        return { label: s.name, data: s.counts, backgroundColor: palette[i % palette.length] };
      })
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
})();
