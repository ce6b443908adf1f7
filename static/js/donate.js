// The donate form's amount as one control. Without this script the page works as it is:
// the "Other amount" box is always shown and the chosen radio decides (the server says so).
// With it: the box appears when "Other amount" is chosen, typing in it chooses "Other
// amount", and choosing a project in another currency switches the presets to that
// currency. gift_total.js, loaded after this one, names the total in the button.
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

  function chosen() {
    return form.querySelector('input[name="amount_preset"]:checked');
  }

  function update() {
    // Keep the box in view while it holds a mistake the server pointed out, or a value.
    otherField.hidden = chosen() !== other && !box.getAttribute("aria-invalid") && box.value === "";
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
