/* Printing a list: the filters it shows are written as one line above it (the filter form itself is not
   printed), e.g. "筛选条件：状态：已逾期；牵头单位：疾控处". */
(function () {
  "use strict";
  function line(form) {
    var parts = [];
    form.querySelectorAll("select, input").forEach(function (control) {
      if (control.type === "hidden" || control.type === "submit" || control.disabled) return;
      var value = control.tagName === "SELECT"
        ? (control.value ? control.options[control.selectedIndex].text : "")
        : (control.type === "checkbox" ? (control.checked ? "是" : "") : control.value.trim());
      if (!value) return;
      var label = control.closest("label");
      var name = label ? label.childNodes[0].textContent.trim() : (control.getAttribute("aria-label") || control.name);
      parts.push(name + "：" + value);
    });
    return parts.length ? "筛选条件：" + parts.join("；") : "筛选条件：全部";
  }
  // 打印全部 (?print=all): the whole list is on the page, so the print dialog opens once it has loaded
  if (new URLSearchParams(window.location.search).get("print") === "all") {
    window.addEventListener("load", function () { window.print(); });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("form.filters").forEach(function (form) {
      var note = form.previousElementSibling;
      if (!note || !note.classList.contains("print-filters")) {
        note = document.createElement("p");
        note.className = "print-filters";
        form.parentNode.insertBefore(note, form);
      }
      note.textContent = line(form);
    });
  });
})();
