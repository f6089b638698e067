// Superlists: hide the item error as soon as the visitor starts fixing the input, without
// a page load (the book's chapter on JavaScript).
(function () {
  "use strict";

  function initialize() {
    var input = document.getElementById("id_text");
    if (!input) {
      return;
    }
    input.addEventListener("input", function () {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-describedby");
    });
  }

  // Loaded with `defer`, so the document is parsed; the check keeps it safe elsewhere too.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initialize);
  } else {
    initialize();
  }
})();
