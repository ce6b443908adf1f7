// The donate form's details, progressively enhanced. Without this script: every amount's
// sentence is listed, and the dedication name field is always shown with a hint.
// With it: the chosen amount's sentence is shown and announced politely, the name field
// appears only for "In honor of" or "In memory of", and the chosen project's summary is
// hidden once the donor picks another project (it would describe the wrong one).
(function () {
  "use strict";
  var form = document.querySelector("[data-donate-form]");
  if (!form) {
    return;
  }
  var project = form.elements.project;

  // What the chosen amount does.
  var list = form.querySelector("[data-amount-meanings]");
  var meaning = form.querySelector("[data-amount-meaning]");
  var lastSaid = null;
  function showMeaning() {
    if (!list || !meaning) {
      return;
    }
    var sameProject = project && project.value === list.getAttribute("data-project");
    var chosen = form.querySelector('input[name="amount_preset"]:checked');
    var item = sameProject && chosen ? list.querySelector('li[data-amount="' + chosen.value + '"]') : null;
    list.hidden = true;
    meaning.hidden = !item;
    var text = item ? item.textContent.replace(/\s+/g, " ").trim() : "";
    // Only a change is announced: a live region repeating itself is noise.
    if (text !== lastSaid) {
      meaning.textContent = text;
      lastSaid = text;
    }
  }

  // The dedication's name, asked only when there is someone to name.
  var nameField = form.querySelector("[data-dedication-name]");
  var nameHint = nameField && nameField.querySelector(".help");
  function showDedicationName() {
    if (!nameField) {
      return;
    }
    var chosen = form.querySelector('input[name="dedication"]:checked');
    var wanted = chosen && chosen.value !== "";
    var input = nameField.querySelector("input");
    // Keep it in view while it holds a name or an error the server pointed out.
    nameField.hidden = !wanted && input.value === "" && !input.getAttribute("aria-invalid");
    if (nameHint) {
      nameHint.hidden = true;
    }
  }

  // The project summary at the top describes the project the page opened with.
  var summary = document.querySelector("[data-chosen-project]");
  function showSummary() {
    if (summary && project) {
      summary.hidden = project.value !== summary.getAttribute("data-chosen-project");
    }
  }

  form.addEventListener("change", function () {
    showMeaning();
    showDedicationName();
    showSummary();
  });
  showMeaning();
  showDedicationName();
  showSummary();
})();
