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
  // The browser checks each field's pattern before the form is sent; say what is wrong next to
  // the field, as the server would, instead of the browser's bubble on the first field only.
  function showError(input, message) {
    var id = input.id + "-error";
    var error = document.getElementById(id);
    if (!message) {
      if (error) error.parentNode.removeChild(error);
      input.removeAttribute("aria-invalid");
    } else {
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.id = id;
        error.setAttribute("role", "alert");
        input.parentNode.appendChild(error);
      }
      error.textContent = message;
      input.setAttribute("aria-invalid", "true");
    }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== id; });
    if (message) described.push(id);
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  }
  var fields = document.querySelectorAll("input[data-invalid]");
  var focusedOne = false;
  for (var f = 0; f < fields.length; f++) {
    fields[f].addEventListener("invalid", function (event) {
      event.preventDefault();
      var input = event.target;
      var missing = input.validity.valueMissing && input.getAttribute("data-missing");
      showError(input, missing || input.getAttribute("data-invalid"));
      if (!focusedOne) {
        focusedOne = true;
        input.focus();
        window.setTimeout(function () { focusedOne = false; }, 0);
      }
    });
    fields[f].addEventListener("input", function (event) {
      if (event.target.validity.valid) showError(event.target, "");
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
