// "Cover the fee": name the exact amount in the checkbox's label ("Add $0.87 so all of my
// gift reaches the project") and keep it in step with the amount and currency chosen.
// Without this script the label states the rule (2.2% + $0.30) and the server works it out;
// the checkout page shows the exact figure before anything is paid.
(function () {
  "use strict";
  var form = document.querySelector("[data-donate-form]");
  var label = document.querySelector("[data-fee-label]");
  var data = document.getElementById("donate-currencies");
  if (!form || !label || !data) {
    return;
  }
  var options = JSON.parse(data.textContent);
  var rule = label.textContent;
  var percentBp = parseInt(label.getAttribute("data-fee-bp"), 10);
  var fixedMinor = parseInt(label.getAttribute("data-fee-fixed"), 10);
  var currencyInput = form.querySelector("[data-currency]");
  var plainAmount = /^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]*)?$|^\.[0-9]+$/;

  function currency() {
    return options.currencies[currencyInput ? currencyInput.value : ""] || null;
  }

  // The gift in minor units, from the chosen preset or the typed amount; null if unknown.
  function amountMinor(info) {
    var radio = form.querySelector('input[name="amount_preset"]:checked');
    if (radio && radio.value !== "other") {
      return parseInt(radio.value, 10);
    }
    var text = (form.elements.amount_custom ? form.elements.amount_custom.value : "").replace(/[\s$]/g, "");
    if (!plainAmount.test(text)) {
      return null;
    }
    // Whole minor units from the digits themselves: no floating point near money.
    var parts = text.replace(/,/g, "").split(".");
    var fraction = (parts[1] || "").replace(/0+$/, "");
    if (fraction.length > info.decimals) {
      return null;
    }
    while (fraction.length < info.decimals) {
      fraction += "0";
    }
    var minor = parseInt((parts[0] || "0") + fraction, 10);
    return minor > 0 ? minor : null;
  }

  // The same arithmetic as donations.money.fee_to_cover.
  function feeMinor(amount) {
    var charge = Math.ceil(((amount + fixedMinor) * 10000) / (10000 - percentBp));
    return charge - amount;
  }

  function format(minor, info) {
    var scale = Math.pow(10, info.decimals);
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: info.currency.toUpperCase(),
      minimumFractionDigits: info.decimals,
      maximumFractionDigits: info.decimals,
    }).format(minor / scale);
  }

  function update() {
    var info = currency();
    var amount = info ? amountMinor(info) : null;
    label.textContent = amount
      ? "Add " + format(feeMinor(amount), info) + " so all of my gift reaches the project"
      : rule;
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
