// Running totals on the journal form while typing; the form works the same without this script.
(function () {
  "use strict";
  var totals = document.getElementById("journal-totals");
  if (!totals) { return; }
  var currency = totals.getAttribute("data-currency") || "USD";
  var format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
  var places = format.resolvedOptions().maximumFractionDigits;
  var amount = /^\$?\s*(\d{1,15}|\d{1,3}(,\d{3}){1,4})(\.\d*)?$|^\$?\s*\.\d+$/;

  function minorUnits(text) {
    text = text.trim();
    if (!text || !amount.test(text)) { return 0; }
    var digits = text.replace(/[$,\s]/g, "");
    var parts = digits.split(".");
    var fraction = (parts[1] || "").padEnd(places, "0");
    if (fraction.length > places) { return 0; }
    return parseInt(parts[0] || "0", 10) * Math.pow(10, places) + parseInt(fraction || "0", 10);
  }

  function show(id, minor) {
    document.getElementById(id).textContent = format.format(minor / Math.pow(10, places));
  }

  function update() {
    var debits = 0, credits = 0;
    document.querySelectorAll("input[name$='-debit']").forEach(function (input) { debits += minorUnits(input.value); });
    document.querySelectorAll("input[name$='-credit']").forEach(function (input) { credits += minorUnits(input.value); });
    show("total-debits", debits);
    show("total-credits", credits);
    show("total-difference", Math.abs(debits - credits));
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[name$='-debit'], input[name$='-credit']")) { update(); }
  });
})();
