// The data page with JavaScript on; everything also works without it (the server reads the item boxes).
// An item's box (e.g. one debt) ticks or unticks all its fields at once, and a field keeps its item's
// box honest. A download button rests for a moment after a click, so a double click sends one form.
(function () {
  "use strict";
  var REST_MS = 3000;
  var form = document.getElementById("gegevens");
  if (!form) {
    return;
  }
  form.addEventListener("change", function (event) {
    var item = event.target.closest(".blauweknop-item");
    if (!item) {
      return;
    }
    var itemBox = item.querySelector(".blauweknop-item__box input[type=checkbox]");
    var fields = Array.prototype.slice.call(item.querySelectorAll("input[type=checkbox][name^='veld-']"));
    if (event.target === itemBox) {
      fields.forEach(function (field) { field.checked = itemBox.checked; });
    } else {
      itemBox.checked = fields.some(function (field) { return field.checked; });
    }
  });
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.name !== "download") {
      return;
    }
    // Not disabled: a disabled button would lose the keyboard focus; it only ignores clicks a while.
    if (button.dataset.resting) {
      event.preventDefault();
      return;
    }
    button.dataset.resting = "1";
    setTimeout(function () { delete button.dataset.resting; }, REST_MS);
  });
})();
