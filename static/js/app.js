// Small behaviours of every page, here rather than in inline handlers (the CSP allows none).
(function () {
  "use strict";
  // <input type="checkbox" data-check-all="NAME"> ticks or clears every checkbox named NAME
  // in its form.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!all.matches || !all.matches("input[type=checkbox][data-check-all]")) return;
    var scope = all.form || document;
    scope.querySelectorAll('input[type=checkbox][name="' + all.dataset.checkAll + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
})();
