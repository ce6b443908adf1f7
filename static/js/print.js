// A "Print" button for receipts and statements. Without JavaScript the page says to use the
// browser's Print command instead, so the button stays hidden until it can work.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
