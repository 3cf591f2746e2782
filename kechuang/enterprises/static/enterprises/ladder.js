// The cultivation ladder chart: stages stacked per year (data from json_script "ladder-data").
(function () {
  var el = document.getElementById("ladder-chart");
  var data = document.getElementById("ladder-data");
  if (!el || !data || !window.echarts) return;
  var d = JSON.parse(data.textContent);
  var chart = echarts.init(el);
  chart.setOption({tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 50, right: 20, top: 40, bottom: 25},
    xAxis: {type: "category", data: d.years}, yAxis: {type: "value"},
    series: d.series.map(function (s) { return {name: s.name, type: "bar", stack: "all", data: s.data}; })});
  window.addEventListener("resize", function () { chart.resize(); });
})();
