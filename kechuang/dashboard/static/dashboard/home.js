// Home page charts for staff: enterprises by town and the ladder funnel (data from json_script).
(function () {
  var town = document.getElementById("by-town-data");
  var ladderData = document.getElementById("ladder-data");
  if (!town || !ladderData || !window.echarts) return;
  var rows = JSON.parse(town.textContent);
  var chart = echarts.init(document.getElementById("by-town"));
  chart.setOption({
    grid: {left: 90, right: 20, top: 10, bottom: 20},
    xAxis: {type: "value"},
    yAxis: {type: "category", data: rows.map(function (r) { return r.jurisdiction__name; }).reverse()},
    series: [{type: "bar", data: rows.map(function (r) { return r.n; }).reverse()}],
    tooltip: {}
  });
  var ladder = JSON.parse(ladderData.textContent);
  var lc = echarts.init(document.getElementById("ladder"));
  lc.setOption({tooltip: {}, series: [{type: "funnel", sort: "none", left: "10%", width: "80%",
    data: ladder.slice().reverse(), label: {formatter: "{b}: {c}"}}]});
  window.addEventListener("resize", function () { chart.resize(); lc.resize(); });
})();
