// Give plain form widgets Bootstrap's small control classes; which ones: data-selector on this tag.
(function () {
  var selector = document.currentScript && document.currentScript.dataset.selector;
  if (!selector) return;
  document.querySelectorAll(selector).forEach(function (e) {
    e.classList.add("form-control", "form-control-sm");
  });
})();
