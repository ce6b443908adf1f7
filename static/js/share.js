// "Share…": the phone's own share sheet (the Web Share API), where the browser has one.
// The plain links beside it work everywhere, so the button stays hidden until it can work.
(function () {
  "use strict";
  if (!navigator.share) {
    return;
  }
  document.querySelectorAll("[data-web-share]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator
        .share({ title: button.dataset.title, text: button.dataset.text, url: button.dataset.url })
        .catch(function () {}); // the donor closed the sheet: nothing to do
    });
  });
})();
