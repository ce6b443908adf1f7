// "Confirming your gift…": look again every few seconds and show the confirmed page
// as soon as Stripe's webhook has arrived. Without JavaScript the "Check again"
// button does the same. Only this page loads the script, and only in its pending state.
(function () {
  "use strict";
  var attempts = 0;
  var maxAttempts = 40;

  function check() {
    attempts += 1;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var state = page.querySelector("[data-gift-state]");
        if (state && state.getAttribute("data-gift-state") !== "pending") {
          window.location.reload();
        } else if (attempts < maxAttempts) {
          window.setTimeout(check, 3000);
        }
      })
      .catch(function () {
        if (attempts < maxAttempts) {
          window.setTimeout(check, 6000);
        }
      });
  }

  window.setTimeout(check, 2000);
})();
