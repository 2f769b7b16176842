// Submit every form marked data-auto-submit as soon as the page loads. The form's own
// button does the same for browsers without JavaScript. A static file, because the
// Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var forms = document.querySelectorAll("form[data-auto-submit]");
  Array.prototype.forEach.call(forms, function (form) {
    form.submit();
  });
});
