// The verification page: refuse an evidence file larger than the cap before it is sent (the
// server refuses it too, without reading it; this only spares a long upload on a phone).
(function () {
  "use strict";
  function check(input) {
    var max = parseInt(input.dataset.maxBytes || "0", 10);
    var file = input.files && input.files[0];
    if (max && file && file.size > max) {
      input.setCustomValidity(input.dataset.tooLarge || "");
      input.reportValidity();
      return false;
    }
    input.setCustomValidity("");
    return true;
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[type=file][data-max-bytes]")) check(t);
  });
  document.addEventListener("submit", function (e) {
    var input = e.target.querySelector && e.target.querySelector("input[type=file][data-max-bytes]");
    if (input && !check(input)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
})();
