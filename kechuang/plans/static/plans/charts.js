// Trend charts of plan indicators: actual values against the target path (data from json_script).
(function () {
  var el = document.getElementById("chart-data");
  if (!el || !window.echarts) return;
  var series = JSON.parse(el.textContent);
  var single = document.getElementById("single-chart");  // an indicator page: one chart
  if (single) series.push(JSON.parse(single.textContent));
  var labels = JSON.parse((document.getElementById("chart-labels") || {textContent: '{"actual":"实际","path":"目标路径"}'}).textContent);
  series.forEach(function (s) {
    var box = document.querySelector('[data-chart="' + s.id + '"]');
    if (!box) return;
    var chart = echarts.init(box);
    chart.setOption({
      grid: {left: 40, right: 10, top: 20, bottom: 20},
      tooltip: {trigger: "axis"},
      legend: {show: box.offsetHeight > 200, top: 0},
      xAxis: {type: "category", data: s.years},
      yAxis: {type: "value", scale: true, name: s.unit},
      series: [
        {name: labels.actual, type: "line", data: s.actual, connectNulls: false, symbolSize: 5},
        {name: labels.path, type: "line", data: s.path, lineStyle: {type: "dashed"}, symbol: "none"}
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
  (JSON.parse((document.getElementById("cross-data") || {textContent: "[]"}).textContent)).forEach(function (g) {
    var box = document.querySelector('[data-cross="' + g.key + '"]');
    if (!box) return;
    var chart = echarts.init(box);
    var lines = [{name: labels.actual, type: "line", data: g.actual, symbolSize: 6}];
    g.paths.forEach(function (p) { lines.push({name: p.name, type: "line", data: p.values, lineStyle: {type: "dashed"}, symbol: "none"}); });
    chart.setOption({grid: {left: 50, right: 10, top: 40, bottom: 20}, tooltip: {trigger: "axis"}, legend: {top: 0, type: "scroll"},
      xAxis: {type: "category", data: g.years}, yAxis: {type: "value", scale: true, name: g.unit}, series: lines});
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
