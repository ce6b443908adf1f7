// The donate form's amount as one control. Without this script the page works as it is:
// the "Other amount" box is always shown and the chosen radio decides (the server says so).
// With it: the box appears when "Other amount" is chosen, typing in it chooses "Other
// amount", the button names the amount ("Donate $30"), and choosing a project in another
// currency switches the presets to that currency.
(function () {
  "use strict";
  var form = document.querySelector("[data-donate-form]");
  var data = document.getElementById("donate-currencies");
  if (!form || !data) {
    return;
  }
  var options = JSON.parse(data.textContent);
  var box = form.elements.amount_custom;
  var other = form.querySelector('input[name="amount_preset"][value="other"]');
  var otherField = form.querySelector("[data-other-amount]");
  var button = form.querySelector("[data-donate-button]");
  var currencyInput = form.querySelector("[data-currency]");
  var project = form.elements.project;
  // The same digits the server takes: "1,000", "12.50", "$25"; not "1e3" or "-5".
  var plainAmount = /^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]*)?$|^\.[0-9]+$/;

  function currency() {
    return options.currencies[currencyInput.value];
  }

  function chosen() {
    return form.querySelector('input[name="amount_preset"]:checked');
  }

  function format(major, info) {
    var whole = Math.round(major * Math.pow(10, info.decimals)) % Math.pow(10, info.decimals) === 0;
    var digits = whole ? 0 : Math.min(info.decimals, 2);
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: info.currency.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  }

  function typedAmount() {
    var text = box.value.replace(/[\s$]/g, "");
    var info = currency();
    if (!plainAmount.test(text)) {
      return null;
    }
    var parts = text.replace(/,/g, "").split(".");
    var decimals = info.decimals === 3 ? 2 : info.decimals;
    if (parts[1] && parts[1].replace(/0+$/, "").length > decimals) {
      return null;
    }
    var major = Number(parts.join("."));
    return major > 0 ? format(major, info) : null;
  }

  function update() {
    var radio = chosen();
    var isOther = radio === other;
    // Keep the box in view while it holds a mistake the server pointed out, or a value.
    otherField.hidden = !isOther && !box.getAttribute("aria-invalid") && box.value === "";
    var label = null;
    if (isOther) {
      label = typedAmount();
    } else if (radio) {
      label = radio.parentNode.textContent.trim();
    }
    button.textContent = label ? "Donate " + label : "Donate";
  }

  function switchCurrency() {
    var code = options.projects[project.value];
    if (!code || code === currencyInput.value) {
      return;
    }
    var info = options.currencies[code];
    currencyInput.value = code;
    // Rebuild the preset pills from the first one, in front of "Other amount": currencies
    // may offer a different number of presets.
    var pills = form.querySelectorAll('input[name="amount_preset"]:not([value="other"])');
    var wasChecked = false;
    var template = pills[0].parentNode;
    pills.forEach(function (radio) {
      wasChecked = wasChecked || radio.checked;
      if (radio.parentNode !== template) {
        radio.parentNode.remove();
      }
    });
    template.remove();
    info.presets.forEach(function (preset, index) {
      var pill = template.cloneNode(true);
      var radio = pill.querySelector("input");
      radio.id = "id_amount_preset_" + code + "_" + index;
      radio.value = preset[0];
      radio.defaultChecked = false;
      radio.checked = wasChecked && preset[0] === info.default;
      pill.htmlFor = radio.id;
      pill.querySelector("span").textContent = preset[1];
      other.parentNode.parentNode.insertBefore(pill, other.parentNode);
    });
    form.querySelector("[data-currency-symbol]").textContent = info.symbol;
    form.querySelector("[data-currency-name]").textContent = info.name;
    var help = form.querySelector("[data-amount-help]");
    if (help) {
      help.textContent = info.help;
    }
  }

  form.addEventListener("change", function (event) {
    if (event.target === project) {
      switchCurrency();
    }
    update();
  });
  box.addEventListener("input", function () {
    if (box.value !== "") {
      other.checked = true;
    }
    update();
  });
  update();
})();
