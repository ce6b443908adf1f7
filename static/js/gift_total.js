// What the donor will pay, in words, kept in step with the form: the fee line ("Add $0.87 a
// month so all of your gift reaches the project"), the summary ("Total: $25.87 a month
// ($25 gift + $0.87 card fee)") and the button ("Donate $25.87 a month"). The server draws
// the same words for the form as it first stands (donations/forms.py, PaymentWords), so the
// page reads right without this script. The sentences, how each currency writes its amounts
// and its fixed fee come from there too (the JSON in #donate-currencies); the arithmetic is
// donations.money.fee_to_cover's, in whole minor units: no floating point near money.
// donate.js is loaded first, so on every change it has switched the currency before this runs.
(function () {
  "use strict";
  var form = document.querySelector("[data-donate-form]");
  var data = document.getElementById("donate-currencies");
  if (!form || !data) {
    return;
  }
  var options = JSON.parse(data.textContent);
  var words = options.words;
  var label = form.querySelector("[data-fee-label]");
  var summary = form.querySelector("[data-donate-summary]");
  var button = form.querySelector("[data-donate-button]");
  var currencyInput = form.querySelector("[data-currency]");
  var feeBox = form.elements.cover_fee;
  // The same digits the server takes: "1,000", "12.50", "$25"; not "1e3" or "-5".
  var plainAmount = /^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]*)?$|^\.[0-9]+$/;

  function currency() {
    return options.currencies[currencyInput ? currencyInput.value : ""] || null;
  }

  function monthly() {
    var chosen = form.querySelector('input[name="frequency"]:checked');
    return Boolean(chosen && chosen.value === "monthly");
  }

  // The gift in minor units, from the chosen preset or the typed amount, as the server takes
  // it (donations.money.parse_major_amount, within the currency's limits); null if there is
  // none it would take.
  function amountMinor(info) {
    var radio = form.querySelector('input[name="amount_preset"]:checked');
    if (radio && radio.value !== "other") {
      return parseInt(radio.value, 10);
    }
    var box = form.elements.amount_custom;
    var text = box ? box.value.trim() : "";
    if (text === "" || (box.maxLength > 0 && text.length > box.maxLength)) {
      return null;
    }
    text = text.replace(/[\s$]/g, "");
    if (!plainAmount.test(text)) {
      return null;
    }
    var parts = text.replace(/,/g, "").split(".");
    var fraction = (parts[1] || "").replace(/0+$/, "");
    // Three-decimal currencies take at most two decimals: Stripe charges them in steps of ten.
    var allowed = info.decimals === 3 ? 2 : info.decimals;
    if (fraction.length > allowed) {
      return null;
    }
    while (fraction.length < info.decimals) {
      fraction += "0";
    }
    var minor = parseInt((parts[0] || "0") + fraction, 10);
    return minor >= info.min && minor <= info.max ? minor : null;
  }

  // donations.money.fee_to_cover: the charge that leaves the whole gift after the fee,
  // rounded up to an amount Stripe accepts. Whole numbers below 2^53 throughout.
  function feeMinor(amount, info) {
    var numerator = (amount + info.fee_fixed) * 10000;
    var denominator = 10000 - options.fee_percent_bp;
    var charge = Math.floor((numerator + denominator - 1) / denominator);
    if (info.decimals === 3 && charge % 10 !== 0) {
      charge += 10 - (charge % 10);
    }
    return charge - amount;
  }

  function grouped(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // donations.money.format_money: "$25" for whole amounts, "$25.87" otherwise, "KWD10.330".
  function format(minor, info) {
    var shape = info.format;
    var scale = Math.pow(10, shape.decimals);
    var text = grouped(String(Math.floor(minor / scale)));
    var fraction = minor % scale;
    if (fraction !== 0) {
      var digits = String(fraction);
      while (digits.length < shape.decimals) {
        digits = "0" + digits;
      }
      while (digits.length < shape.digits) {
        digits += "0";
      }
      text += "." + digits;
    }
    return shape.before + text + shape.after;
  }

  function withCadence(minor, info) {
    return format(minor, info) + (monthly() ? " " + words.cadence : "");
  }

  // Fill a sentence's placeholders; a function, so that "$" in an amount is never read as a
  // replacement pattern.
  function fill(sentence, values) {
    return sentence.replace(/\{(total|fee|gift)\}/g, function (match, name) {
      return values[name];
    });
  }

  function update() {
    var info = currency();
    if (!info) {
      return;
    }
    var amount = amountMinor(info);
    if (amount === null) {
      label.textContent = info.fee_rule[monthly() ? 1 : 0];
      summary.textContent = "";
      summary.hidden = true;
      button.textContent = words.button_unknown;
      return;
    }
    var fee = feeMinor(amount, info);
    var covered = feeBox && feeBox.checked;
    var total = withCadence(amount + (covered ? fee : 0), info);
    label.textContent = fill(words.fee, { fee: withCadence(fee, info) });
    summary.textContent = covered
      ? fill(words.summary_fee, { total: total, gift: format(amount, info), fee: format(fee, info) })
      : fill(words.summary, { total: total });
    summary.hidden = false;
    button.textContent = fill(words.button, { total: total });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
