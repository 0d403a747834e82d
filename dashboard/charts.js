/*
 * The four statistics charts, drawn by Apache ECharts (the global `echarts` of its dist build, with
 * its Chinese and English locales). Each series' data items keep the row they came from (`key`,
 * `reads`, `approved`), so `echarts.getInstanceByDom(el).getOption()` shows exactly what is drawn.
 * Animation is off: a regulator reads figures, and the first render is measured to the last chart.
 */

import { language, t } from "./i18n.js";

const PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];

/** The chart containers by name, and what each draws from the stats. */
export const CHARTS = {
  daily: { element: "chart-daily", title: "chartDaily", option: dailyOption },
  consumer: { element: "chart-consumer", title: "chartConsumer", option: consumerOption },
  dataType: { element: "chart-data-type", title: "chartDataType", option: dataTypeOption },
  outcome: { element: "chart-outcome", title: "chartOutcome", option: outcomeOption },
};

const instances = new Map();

function base(titleKey) {
  return {
    animation: false,
    color: PALETTE,
    aria: { enabled: true, label: { description: t(titleKey) } },
    textStyle: { fontFamily: "inherit" },
    grid: { containLabel: true, left: 12, right: 24, top: 36, bottom: 12 },
  };
}

function dailyOption(stats) {
  const rows = [...stats.day.rows].sort((a, b) => String(a.key).localeCompare(String(b.key)));
  const days = rows.map((r) => r.label || String(r.key));
  return {
    ...base("chartDaily"),
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      {
        id: "reads",
        name: t("seriesReads"),
        type: "bar",
        data: rows.map((r, i) => ({ name: days[i], key: r.key, value: r.reads })),
      },
      {
        id: "approved",
        name: t("seriesApproved"),
        type: "line",
        data: rows.map((r, i) => ({ name: days[i], key: r.key, value: r.approved })),
      },
    ],
  };
}

function byReads(rows) {
  return [...rows].sort((a, b) => b.reads - a.reads || String(a.key).localeCompare(String(b.key)));
}

function consumerOption(stats) {
  const rows = byReads(stats.consumer.rows).reverse(); // the largest at the top of a horizontal bar chart
  const names = rows.map((r) => r.label || String(r.key));
  return {
    ...base("chartConsumer"),
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: names },
    series: [
      {
        id: "reads",
        name: t("seriesReads"),
        type: "bar",
        label: { show: true, position: "right" },
        data: rows.map((r, i) => ({ name: names[i], key: r.key, value: r.reads })),
      },
    ],
  };
}

function dataTypeOption(stats) {
  const rows = byReads(stats.dataType.rows);
  return {
    ...base("chartDataType"),
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { type: "scroll", orient: "vertical", right: 0, top: "middle" },
    series: [
      {
        id: "reads",
        name: t("seriesReads"),
        type: "pie",
        radius: ["35%", "70%"],
        center: ["40%", "50%"],
        label: { formatter: "{b}\n{c}" },
        data: rows.map((r) => ({ name: r.label || String(r.key), key: r.key, value: r.reads })),
      },
    ],
  };
}

function percent(ratio) {
  return `${(ratio * 100).toFixed(1)}%`;
}

function outcomeOption(stats) {
  const rows = byReads(stats.consumer.rows).reverse();
  const names = rows.map((r) => r.label || String(r.key));
  return {
    ...base("chartOutcome"),
    tooltip: {
      trigger: "item",
      formatter: (item) =>
        t("ratioTooltip", {
          name: item.name,
          approved: item.data.approved,
          reads: item.data.reads,
          ratio: percent(item.data.value),
        }),
    },
    xAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    yAxis: { type: "category", data: names },
    series: [
      {
        id: "ratio",
        name: t("seriesRatio"),
        type: "bar",
        label: { show: true, position: "right", formatter: (item) => percent(item.value) },
        data: rows.map((r, i) => ({
          name: names[i],
          key: r.key,
          value: r.outcomeRatio,
          reads: r.reads,
          approved: r.approved,
        })),
      },
    ],
  };
}

function instanceFor(name) {
  const element = document.getElementById(CHARTS[name].element);
  let chart = instances.get(name);
  if (chart === undefined || chart.isDisposed()) {
    chart = globalThis.echarts.init(element, null, { locale: language() === "zh" ? "ZH" : "EN", renderer: "canvas" });
    instances.set(name, chart);
  }
  return chart;
}

/**
 * Draws every chart from `stats` (`{ day, consumer, dataType }`: answers of /api/stats); resolves
 * once each chart reports its render finished.
 */
export async function drawCharts(stats) {
  const drawn = [];
  for (const [name, chart] of Object.entries(CHARTS)) {
    const instance = instanceFor(name);
    const option = chart.option(stats);
    const empty = option.series.every((s) => s.data.length === 0);
    drawn.push(new Promise((resolve) => instance.on("finished", resolve)));
    instance.setOption(
      {
        ...option,
        title: empty ? { text: t("noData"), left: "center", top: "middle", textStyle: { color: "#777" } } : undefined,
      },
      { notMerge: true },
    );
  }
  await Promise.all(drawn);
  for (const instance of instances.values()) instance.off("finished");
}

/** Disposes the charts (a language switch re-creates them with the other locale). */
export function disposeCharts() {
  for (const instance of instances.values()) instance.dispose();
  instances.clear();
}

export function resizeCharts() {
  for (const instance of instances.values()) instance.resize();
}
