// The donate form's amount as one control. Without this script the page works as it is:
// the "Other amount" box is always shown and the chosen radio decides (the server says so).
// With it: the box appears when "Other amount" is chosen, typing in it chooses "Other
// amount", choosing a project in another currency switches the presets to that currency,
// and choosing One-time or Monthly switches to that frequency's presets (the server draws
// them the same way for ?frequency=monthly). gift_total.js, loaded after this one, names the total in the button.
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
  var currencyInput = form.querySelector("[data-currency]");
  var project = form.elements.project;
  // The presets as drawn: the server's, until the currency or the frequency changes.
  var drawn = currencyInput.value + ":" + frequency();
  // Whether the donor chose an amount themselves (or came back with one); if not, a switch
  // chooses the new default.
  var picked = false;

  function frequency() {
    var radio = form.querySelector('input[name="frequency"]:checked');
    return radio && radio.value === "monthly" ? "monthly" : "one_time";
  }

  function chosen() {
    return form.querySelector('input[name="amount_preset"]:checked');
  }

  function update() {
    // Keep the box in view while it holds a mistake the server pointed out, or a value.
    otherField.hidden = chosen() !== other && !box.getAttribute("aria-invalid") && box.value === "";
  }

  function switchPresets() {
    var code = options.projects[project.value] || currencyInput.value;
    var often = frequency();
    if (!options.currencies[code] || code + ":" + often === drawn) {
      return;
    }
    var info = options.currencies[code];
    var monthly = often === "monthly";
    var presets = monthly ? info.presets_monthly : info.presets;
    var preferred = monthly ? info.default_monthly : info.default;
    var sameCurrency = code === currencyInput.value;
    var current = chosen();
    // An amount the donor chose stays chosen if the new presets have it (same currency only).
    if (picked && sameCurrency && current && current !== other) {
      presets.forEach(function (preset) {
        if (preset[0] === current.value) {
          preferred = current.value;
        }
      });
    }
    drawn = code + ":" + often;
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
    presets.forEach(function (preset, index) {
      var pill = template.cloneNode(true);
      var radio = pill.querySelector("input");
      radio.id = "id_amount_preset_" + code + "_" + often + "_" + index;
      radio.value = preset[0];
      radio.defaultChecked = false;
      radio.checked = wasChecked && preset[0] === preferred;
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

  var first = options.currencies[currencyInput.value];
  if (first && chosen()) {
    picked = chosen().value !== (frequency() === "monthly" ? first.default_monthly : first.default);
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "amount_preset") {
      picked = true;
    }
    if (event.target === project || event.target.name === "frequency") {
      switchPresets();
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
