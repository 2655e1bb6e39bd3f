// The only script of the page: shows a print button on the citizen version. Everything works without it.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
});
