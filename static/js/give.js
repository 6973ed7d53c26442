// The donation page: show what covering the card fee adds to the chosen amount. The page works the
// same without this script (it lists the fee for each preset amount instead).
(function () {
  "use strict";
  var form = document.querySelector("form.give-form[data-fee-percent-tenths]");
  if (!form) { return; }
  var tenths = parseInt(form.getAttribute("data-fee-percent-tenths"), 10);
  var fixed = parseInt(form.getAttribute("data-fee-fixed"), 10);
  var currency = form.getAttribute("data-currency") || "USD";
  var format = new Intl.NumberFormat("en-US", { style: "currency", currency: currency });
  var places = format.resolvedOptions().maximumFractionDigits;
  var amount = /^\$?\s*(\d{1,15}|\d{1,3}(,\d{3}){1,4})(\.\d*)?$|^\$?\s*\.\d+$/;
  var other = form.querySelector("input[name='other_amount']");
  var generic = form.querySelector("[data-cover-generic]");
  var specific = form.querySelector("[data-cover-specific]");
  var shown = form.querySelector("[data-cover-amount]");

  // The same arithmetic as donations.stripe.cover_for, in integer minor units.
  function fee(cents) { return Math.ceil(cents * tenths / 1000) + fixed; }
  function coverFor(cents) {
    var total = Math.ceil((cents + fixed) * 1000 / (1000 - tenths));
    while (total - fee(total) < cents) { total += 1; }
    while (total > cents && total - 1 - fee(total - 1) >= cents) { total -= 1; }
    return total - cents;
  }

  function typed() {
    var text = (other && other.value || "").trim();
    if (!text || !amount.test(text)) { return 0; }
    var parts = text.replace(/[$,\s]/g, "").split(".");
    var fraction = (parts[1] || "");
    if (fraction.length > places) { return 0; }
    fraction = fraction.padEnd(places, "0");
    return parseInt(parts[0] || "0", 10) * Math.pow(10, places) + parseInt(fraction || "0", 10);
  }

  function chosen() {
    var cents = typed();
    if (cents) { return cents; }
    var picked = form.querySelector("input[name='amount']:checked");
    return picked && /^\d+$/.test(picked.value) ? parseInt(picked.value, 10) : 0;
  }

  function update() {
    var cents = chosen();
    generic.hidden = cents > 0;
    specific.hidden = cents === 0;
    if (cents) { shown.textContent = format.format(coverFor(cents) / Math.pow(10, places)); }
  }

  form.addEventListener("change", update);
  if (other) {
    other.addEventListener("input", function () {
      var pick = form.querySelector("input[name='amount'][value='other']");
      if (other.value.trim() && pick) { pick.checked = true; }
      update();
    });
  }
  form.querySelectorAll("input[name='amount']").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.value !== "other" && other) { other.value = ""; }
    });
  });
  update();
})();
