// The secret picker of the request form (templates/secrets_app/_secret_picker.html):
// htmx fills the list under a secret field; a click on a secret puts its ARN
// into that field. Escape, a click elsewhere or leaving the field closes the list.
(function () {
  "use strict";

  function close(list) {
    if (list) list.replaceChildren();
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick]");
    document.querySelectorAll(".picker").forEach(function (list) {
      var field = list.closest(".field");
      if (!field || !field.contains(event.target)) close(list);
    });
    if (!option) return;
    var field = option.closest(".field");
    var input = field && field.querySelector("input[type=text]");
    if (!input) return;
    input.value = option.dataset.pick;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    close(option.closest(".picker"));
  });

  // A press on a secret keeps the focus in the field, so the list stays
  // until the click has picked.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest("[data-pick]")) event.preventDefault();
  });

  document.addEventListener("focusout", function (event) {
    var field = event.target.closest && event.target.closest(".field");
    var list = field && field.querySelector(".picker");
    if (!list) return;
    // Later: where the focus went is known once it has moved.
    setTimeout(function () {
      if (!field.contains(document.activeElement)) close(list);
    }, 200);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var field = event.target.closest && event.target.closest(".field");
    close(field && field.querySelector(".picker"));
  });
})();
