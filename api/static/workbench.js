// The workbench's little JavaScript: reply templates, confirmations, printing, charts.
// Every page works without it; it only saves typing and draws the dashboard's charts.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A reply template fills its textarea; the text can still be edited before sending.
  for (const select of document.querySelectorAll("select[data-fill]")) {
    select.addEventListener("change", () => {
      const target = document.getElementById(select.dataset.fill);
      if (target && select.value) target.value = select.value;
    });
  }
  // Only the reply templates written for the chosen target state are offered.
  for (const to of document.querySelectorAll("select[data-templates]")) {
    const templates = document.getElementById(to.dataset.templates);
    if (!templates) continue;
    const offer = () => {
      for (const el of templates.querySelectorAll("[data-state]")) {
        const fits = el.dataset.state === to.value;
        el.hidden = !fits;
        el.disabled = !fits;
      }
      const chosen = templates.selectedOptions[0];
      if (chosen && chosen.disabled) templates.value = "";
    };
    to.addEventListener("change", offer);
    offer();
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  drawCharts();
});

const PALETTE = ["#1f5fae", "#b3261e", "#1e7b34", "#a15c00", "#0b6a80", "#6a3d9a",
  "#8c564b", "#e377c2", "#7f7f7f", "#17becf"];

function datasets(series, fill) {
  return Object.entries(series).map(([label, data], k) => ({
    label, data, backgroundColor: PALETTE[k % PALETTE.length],
    borderColor: PALETTE[k % PALETTE.length], fill, tension: 0.2,
  }));
}

function drawCharts() {
  const source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const common = { responsive: true, maintainAspectRatio: false, animation: false };
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) canvas.chart = new window.Chart(canvas, config);
  };
  draw("chart-groups", {
    type: "bar",
    data: { labels: data.groups.labels, datasets: datasets(data.groups.series, true) },
    options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  draw("chart-townships", {
    type: "line",
    data: { labels: data.townships.labels, datasets: datasets(data.townships.series, false) },
    options: { ...common, scales: { y: { beginAtZero: true } } },
  });
  draw("chart-rates", {
    type: "bar",
    data: {
      labels: data.rates.labels,
      datasets: datasets({ "办结率": data.rates.completion, "按期办结率": data.rates.on_time,
        "满意率": data.rates.satisfaction }, true),
    },
    options: { ...common, scales: { y: { beginAtZero: true, max: 100 } } },
  });
  document.body.dataset.charts = "drawn";
}
