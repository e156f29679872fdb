// Convenience only: the server checks everything again.
(function () {
  var card = document.getElementById("card_number");
  var hint = document.getElementById("card_number-hint");
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = +digits.charAt(digits.length - 1 - i);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }
  // Test cards that are not Luhn-valid themselves (4444...) are still accepted by the server.
  var catalogue = (card && card.getAttribute("data-test-cards") || "").split(",");
  if (card && hint) {
    card.addEventListener("input", function () {
      var digits = card.value.replace(/\D/g, "").slice(0, 19);
      var spaced = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
      if (spaced !== card.value) card.value = spaced;
      hint.textContent = digits.length >= 12 && !luhn(digits) && catalogue.indexOf(digits) < 0 ? "This card number doesn't look right." : "";
    });
  }
  var expiry = document.getElementById("expiry");
  if (expiry) {
    expiry.addEventListener("input", function (event) {
      if (event.inputType && event.inputType.indexOf("delete") === 0) return;
      var digits = expiry.value.replace(/\D/g, "").slice(0, 4);
      if (digits.length >= 3) expiry.value = digits.slice(0, 2) + "/" + digits.slice(2);
    });
  }
  // One submit per page view; a second click would only be refused by the server.
  var forms = document.querySelectorAll("form");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (event) {
      var button = event.submitter || event.target.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  }
})();
