/* The header's menu button on narrow screens: shows and hides the menu, closes it with Escape.
   Without this script the button stays hidden and the menu's links are shown stacked (see app.css).
   The pages' drop-down menus (<details class="more-actions">) close with Escape too, and on a click elsewhere. */
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    var open = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("details.more-actions[open]") : null;
    open = open || document.querySelector("details.more-actions[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.more-actions[open]").forEach(function (details) {
      if (!details.contains(event.target)) { details.open = false; }
    });
  });

  var header = document.querySelector(".topbar");
  var button = header ? header.querySelector(".menu-toggle") : null;
  var menu = button ? document.getElementById(button.getAttribute("aria-controls")) : null;
  if (!menu) { return; }

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }

  function isOpen() {
    return button.getAttribute("aria-expanded") === "true";
  }

  header.classList.add("menu-ready");
  button.hidden = false;
  setOpen(false);

  button.addEventListener("click", function () {
    setOpen(!isOpen());
  });

  document.addEventListener("keydown", function (event) {
    if ((event.key === "Escape" || event.key === "Esc") && isOpen()) {
      setOpen(false);
      button.focus();
    }
  });

  /* A tap or focus outside the header closes the menu, as a phone user expects. */
  document.addEventListener("click", function (event) {
    if (isOpen() && !header.contains(event.target)) { setOpen(false); }
  });
}());
