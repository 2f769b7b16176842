// Demo LMS behaviour. Every page also works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // The launch form posts the id_token to the tool as soon as the page loads; its
  // visible button does the same for browsers without JavaScript.
  var launchForm = document.querySelector("form[data-auto-submit]");
  if (launchForm) {
    launchForm.submit();
    return;
  }

  // After a launch button is pressed, move keyboard focus to the tool's frame once the
  // tool's page has loaded, so screen reader users land in the plan.
  var frame = document.getElementById("ilp-frame");
  if (!frame) {
    return;
  }
  var focusPending = false;
  var status = document.getElementById("launch-status");
  document.querySelectorAll("form.launch-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      focusPending = true;
      if (status) {
        status.textContent = "The ILP frame is signed in as " + form.dataset.person + ".";
      }
    });
  });
  frame.addEventListener("load", function () {
    if (focusPending) {
      focusPending = false;
      frame.focus();
    }
  });
});
