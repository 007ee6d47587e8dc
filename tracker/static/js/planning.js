/* The planner's forms: level-aware task form, annual split, live target explanation, confirmations. */
(function () {
  "use strict";

  function rowOf(el) {
    return el ? el.closest(".form-row") : null;
  }

  /* Task form: the levels allowed depend on the chosen parent; the year applies to annual tasks. */
  function taskForm(form) {
    var rules = JSON.parse(form.getAttribute("data-level-parents") || "{}");
    var parent = form.querySelector("select[name=parent_id]");
    var level = form.querySelector("select[name=level]");
    var year = form.querySelector("input[name=year]");
    var start = form.querySelector("input[name=start_date]");
    var deadline = form.querySelector("input[name=deadline]");
    var yearBox = form.querySelector("[data-annual-only]");
    if (!level) { return; }

    function parentLevel() {
      if (!parent) { return null; }
      var option = parent.options[parent.selectedIndex];
      return option ? (option.getAttribute("data-level") || "") : "";
    }

    function syncLevels() {
      var pl = parentLevel();
      if (pl === null) { return; }
      var firstAllowed = null;
      Array.prototype.forEach.call(level.options, function (option) {
        var allowed = (rules[option.value] || []).indexOf(pl) !== -1;
        option.disabled = !allowed;
        if (allowed && firstAllowed === null) { firstAllowed = option; }
      });
      if (level.options[level.selectedIndex].disabled && firstAllowed) {
        firstAllowed.selected = true;
      }
    }

    function syncYear() {
      if (yearBox) { yearBox.hidden = level.value !== "annual"; }
    }

    var lastYear = year ? year.value : "";
    function yearChanged() {
      var y = year.value;
      if (!/^\d{4}$/.test(y)) { return; }
      if (start && (!start.value || start.value === lastYear + "-01-01")) { start.value = y + "-01-01"; }
      if (deadline && (!deadline.value || deadline.value === lastYear + "-12-31")) { deadline.value = y + "-12-31"; }
      lastYear = y;
    }

    if (parent) { parent.addEventListener("change", function () { syncLevels(); syncYear(); }); }
    level.addEventListener("change", syncYear);
    if (year) { year.addEventListener("change", yearChanged); }
    syncLevels();
    syncYear();
  }

  /* Split form: the milestone title matters only when year-end milestones are wanted. */
  function splitForm(form) {
    var box = form.querySelector("input[name=add_milestone]");
    var title = form.querySelector("[data-milestone-title]");
    if (!box || !title) { return; }
    function sync() { title.hidden = !box.checked; }
    box.addEventListener("change", sync);
    sync();
  }

  /* Indicator form: say how the target will be understood while the planner types. */
  function indicatorForm(form) {
    var panel = document.getElementById("target-understood");
    if (!panel) { return; }
    var out = panel.querySelector("[data-text]");
    var fields = ["target_text", "name", "unit", "direction", "baseline_text"].map(function (n) {
      return form.querySelector("[name=" + n + "]");
    });
    var timer = null;
    function ask() {
      var params = new URLSearchParams();
      ["text", "name", "unit", "direction", "baseline"].forEach(function (key, i) {
        if (fields[i]) { params.set(key, fields[i].value); }
      });
      fetch(panel.getAttribute("data-url") + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          out.textContent = data.text || "填写目标值后显示";
          panel.classList.toggle("refused", !!data.refused);
        })
        .catch(function () { /* the server explains again on save */ });
    }
    fields.forEach(function (f) {
      if (!f) { return; }
      f.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
      f.addEventListener("change", ask);
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var task = document.getElementById("task-form");
  if (task) { taskForm(task); }
  var split = document.getElementById("split-form");
  if (split) { splitForm(split); }
  var indicator = document.getElementById("indicator-form");
  if (indicator) { indicatorForm(indicator); }
}());
