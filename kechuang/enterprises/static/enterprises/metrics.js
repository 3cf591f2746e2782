// An enterprise's yearly metrics chart (data from json_script "metrics-data"; series names from data-* attributes).
(function () {
  var el = document.getElementById("metrics-chart");
  var data = document.getElementById("metrics-data");
  if (!el || !data || !window.echarts) return;
  var d = JSON.parse(data.textContent);
  if (!d.years.length) { el.style.display = "none"; return; }
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"}, legend: {top: 0},
    grid: {left: 60, right: 50, top: 30, bottom: 25},
    xAxis: {type: "category", data: d.years},
    yAxis: [{type: "value"}, {type: "value", splitLine: {show: false}}],
    series: [
      {name: el.dataset.revenue, type: "bar", data: d.revenue},
      {name: el.dataset.rdExpense, type: "bar", data: d.rd_expense},
      {name: el.dataset.staff, type: "line", yAxisIndex: 1, data: d.staff}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
