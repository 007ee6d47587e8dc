/* A form that comes back with errors: each field is tied to its messages and the first one gets the focus.
   The messages of a field sit in a box named "<field id>-error" (templates/_macros/ui.html field_errors; a box
   with data-field="<name>" belongs to the control of that name in its form, as the overdue list's filters); the
   form_field macro already marks its field, this does the same for fields a template writes out itself (radio
   and checkbox lists included), then moves the focus to the first invalid field so a keyboard or screen-reader
   user lands on what to correct. */
(function () {
  "use strict";

  function describe(control, id) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(id) < 0) { ids.push(id); }
    control.setAttribute("aria-describedby", ids.join(" "));
    control.setAttribute("aria-invalid", "true");
  }

  document.querySelectorAll(".field-errors[id$='-error']").forEach(function (box) {
    /* the field of that id, or (data-field) the control of that name in the same form */
    var form = box.closest("form");
    var target = box.dataset.field && form ? form.querySelector("[name='" + box.dataset.field + "']")
      : document.getElementById(box.id.slice(0, -"-error".length));
    if (!target) { return; }
    if (target.matches("input, select, textarea")) {
      describe(target, box.id);
    } else {  /* a list of radio buttons or check boxes */
      target.querySelectorAll("input, select, textarea").forEach(function (control) { describe(control, box.id); });
    }
  });

  var first = document.querySelector("main [aria-invalid='true']:not([type=hidden]):not([disabled])");
  if (first && first.offsetParent !== null) {
    first.focus();
    /* a page reached as ...#main (through the skip link) focuses its fragment once loaded: the field wins */
    window.addEventListener("load", function () {
      if (document.activeElement === document.body || document.activeElement.id === location.hash.slice(1)) {
        first.focus();
      }
    });
  }
}());
