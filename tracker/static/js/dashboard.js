/* 领导驾驶舱: draws the charts from the JSON block the page carries (SVG renderer; no inline script).
   Every chart's figures are also in the table beside it. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent || "{}");
  var charts = [];
  var esc = window.echarts.format.encodeHTML;
  var FONT = '"WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif';
  var COLOURS = { done: "#15803d", overdue: "#b91c1c", open: "#7b8799", line: "#1d4ed8", expected: "#6b7280",
                  target: "#b45309", baseline: "#7c3aed" };
  var LEVEL_COLOURS = { due_soon: "#b45309", overdue: "#dc2626", severe: "#111827", lagging: "#c2410c" };

  // A chart follows its box: when the page's layout settles after the chart was drawn (a phone's column narrower
  // than the first measure), or the window changes, it is drawn again at the box's size.
  var watcher = window.ResizeObserver ? new window.ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var chart = window.echarts.getInstanceByDom(entry.target);
      if (chart) { chart.resize(); }
    });
  }) : null;

  function draw(node, option) {
    var chart = window.echarts.init(node, null, { renderer: "svg", locale: "ZH" });
    option.animation = false;
    option.textStyle = { fontFamily: FONT };
    chart.setOption(option);
    charts.push(chart);
    if (watcher) { watcher.observe(node); }
    node.setAttribute("data-rendered", "true");
  }

  function shorten(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  }

  function completionBars(node, rows) {
    if (!rows.length) { node.classList.add("empty-chart"); return; }
    node.style.height = Math.max(200, rows.length * 30 + 70) + "px";
    var labels = rows.map(function (r) { return r.label; }).reverse();
    function series(name, key, colour) {
      return { name: name, type: "bar", stack: "tasks", barMaxWidth: 18, itemStyle: { color: colour },
               data: rows.map(key).reverse() };
    }
    draw(node, {
      grid: { left: 8, right: 56, top: 30, bottom: 8, containLabel: true },
      legend: { top: 0, data: ["已完成", "逾期", "其他未完成"] },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (items) {
                   var r = rows[rows.length - 1 - items[0].dataIndex];
                   return esc(r.label) + "<br>任务 " + r.total + "，已完成 " + r.done + "，逾期 " + r.overdue +
                     "<br>完成率 " + (r.rate === null ? "—" : r.rate + "%");
                 } },
      xAxis: { type: "value", minInterval: 1, name: "项" },
      yAxis: { type: "category", data: labels, axisLabel: { formatter: function (v) { return shorten(v, 14); } } },
      series: [
        series("已完成", function (r) { return r.done; }, COLOURS.done),
        series("逾期", function (r) { return r.overdue; }, COLOURS.overdue),
        Object.assign(series("其他未完成", function (r) { return Math.max(0, r.total - r.done - r.overdue); },
                             COLOURS.open),
                      { label: { show: true, position: "right", color: "#374151",
                                 formatter: function (p) {
                                   var r = rows[rows.length - 1 - p.dataIndex];
                                   return r.rate === null ? "" : r.rate + "%";
                                 } } })
      ]
    });
  }

  function trend(node, points) {
    draw(node, {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, data: ["月末逾期未完成", "其中当月到期"] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: points.map(function (p) { return p.label.replace("年", "-").replace("月", ""); }),
               axisLabel: { rotate: 45 } },
      yAxis: { type: "value", minInterval: 1, name: "项" },
      series: [
        { name: "月末逾期未完成", type: "line", data: points.map(function (p) { return p.overdue; }),
          itemStyle: { color: COLOURS.overdue }, label: { show: true, position: "top" } },
        { name: "其中当月到期", type: "bar", barMaxWidth: 14, data: points.map(function (p) { return p.new; }),
          itemStyle: { color: "#e05252" } }
      ]
    });
  }

  function alerts(node, levels) {
    draw(node, {
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "item" },
      xAxis: { type: "category", data: levels.map(function (l) { return l.label; }) },
      yAxis: { type: "value", minInterval: 1, name: "条" },
      series: [{ type: "bar", barMaxWidth: 40, label: { show: true, position: "top" },
                 data: levels.map(function (l) {
                   return { value: l.count, itemStyle: { color: LEVEL_COLOURS[l.level] || "#6b7280" } };
                 }) }]
    });
  }

  function indicator(node, s) {
    var years = s.years.map(String);
    var series = [
      { name: "监测值", type: "line", data: s.values, connectNulls: true, symbolSize: 7,
        itemStyle: { color: COLOURS.line }, label: { show: true, position: "top", fontSize: 10 } },
      { name: "进度值", type: "line", data: s.expected, connectNulls: true, symbol: "none",
        lineStyle: { type: "dashed", color: COLOURS.expected }, itemStyle: { color: COLOURS.expected } }
    ];
    if (s.baseline && s.baseline.from_baseline) {
      series.push({ name: "基期值", type: "scatter", symbolSize: 10, itemStyle: { color: COLOURS.baseline },
                    data: years.map(function (y) { return Number(y) === s.baseline.year ? s.baseline.value : null; }) });
    }
    // The target is a series of its own (not a mark line), so the axis always reaches it.
    s.targets.forEach(function (value, k) {
      series.push({
        name: s.targets.length > 1 ? (k === 0 ? "目标下限" : "目标上限") : "目标值", type: "line", symbol: "none",
        silent: true, data: years.map(function () { return value; }),
        lineStyle: { color: COLOURS.target, width: 1.5 }, itemStyle: { color: COLOURS.target },
        endLabel: { show: true, color: COLOURS.target, fontSize: 11,
                    formatter: function () { return "目标 " + value; } }
      });
    });
    var legend = series.map(function (x) { return x.name; });
    draw(node, {
      grid: { left: 8, right: 52, top: 30, bottom: 4, containLabel: true },
      legend: { top: 0, data: legend, itemWidth: 14, textStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: years },
      yAxis: { type: "value", scale: true, name: s.unit },
      series: series
    });
  }

  document.querySelectorAll("[data-chart]").forEach(function (node) {
    var kind = node.getAttribute("data-chart");
    if (kind === "chapters") { completionBars(node, data.chapters || []); }
    else if (kind === "departments") { completionBars(node, data.departments || []); }
    else if (kind === "trend") { trend(node, data.trend || []); }
    else if (kind === "alerts") { alerts(node, data.alerts || []); }
    else if (kind === "indicator") {
      var s = (data.indicators || [])[Number(node.getAttribute("data-index"))];
      if (s) { indicator(node, s); }
    }
  });

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 100);
  });
}());
