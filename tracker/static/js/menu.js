/* The header's menu button on narrow screens: shows and hides the menu, closes it with Escape.
   Without this script the button stays hidden and the menu's links are shown stacked (see app.css). */
(function () {
  "use strict";

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
