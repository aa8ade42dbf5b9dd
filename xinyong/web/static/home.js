// The home page's charts, drawn with Chart.js (vendor/chartjs) from the figures the page
// carries as JSON (#figures-data). The same numbers are in the tables under each chart, so a
// reader without JavaScript or a screen reader misses nothing.
(function () {
  "use strict";
  var source = document.getElementById("figures-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  Chart.defaults.font.family = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif';
  Chart.defaults.color = "#1a1a1a";
  Chart.defaults.animation = false;
  var monthly = document.getElementById("chart-monthly");
  if (monthly) {
    new Chart(monthly, {
      type: "bar",
      data: {
        labels: data.months,
        datasets: [
          { label: "行政许可", data: data.permits, backgroundColor: "#0b4f9c" },
          { label: "行政处罚", data: data.penalties, backgroundColor: "#9b1c1c" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }
  var tabs = document.getElementById("chart-tabs");
  if (tabs) {
    new Chart(tabs, {
      type: "doughnut",
      data: {
        labels: data.tabs,
        datasets: [{
          data: data.tab_counts,
          backgroundColor: ["#5c6b7a", "#0b4f9c", "#9b1c1c", "#1b5e20", "#b35c00", "#6a3d9a", "#8c8c8c"]
        }]
      },
      options: { maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } }
    });
  }
})();
