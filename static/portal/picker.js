// The secret picker of the request form (templates/secrets_app/_secret_picker.html):
// htmx fills the list under a secret field; a click on a secret puts its ARN
// into that field. Escape, or a click elsewhere, closes the list.
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

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var field = event.target.closest && event.target.closest(".field");
    close(field && field.querySelector(".picker"));
  });
})();
