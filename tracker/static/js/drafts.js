/* Never lose typed text. Whatever is typed into a form that saves (a report, a case answer, a reason) is kept
   in this browser, per user and form, as it is typed. When the save does not go through — the session ended
   or was signed out elsewhere, the form's security token expired, the upload was too large, the network
   failed — the next time the form is opened the text is put back, with a notice saying so and a button to
   throw it away. A save that went through forgets the draft. Nothing leaves the browser; drafts older than
   a week are dropped. Forms with a password field, and forms marked data-no-draft, are left alone. */
(function () {
  "use strict";
  var PREFIX = "tracker-draft:";
  var PENDING = "tracker-draft-pending";
  var WEEK = 7 * 24 * 3600 * 1000;
  var TEXT = /^(text|number|date|month|email|tel|url|search)$/;
  var meta = document.querySelector("meta[name=tracker-user]");
  var user = meta ? meta.getAttribute("content") : null;
  var store;
  try { store = window.localStorage; store.getItem(PREFIX); } catch (e) { return; }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf_token") return false;
      if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
      return el.tagName === "INPUT" && (TEXT.test(el.type) || el.type === "checkbox" || el.type === "radio" ||
                                        (el.type === "hidden" && /version/.test(el.name)));
    });
  }
  function eligible(form) {
    return (form.method || "").toLowerCase() === "post" && !form.hasAttribute("data-no-draft") &&
      !form.querySelector("input[type=password]") &&
      fields(form).some(function (el) { return el.tagName === "TEXTAREA" || (el.type && TEXT.test(el.type)); });
  }
  function keyOf(form) { return PREFIX + user + ":" + (form.getAttribute("action") || location.pathname); }
  function read(form) {
    var values = {};
    fields(form).forEach(function (el, i) {
      var name = el.name + "#" + i;
      values[name] = (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
    });
    return values;
  }
  function write(form, values) {
    fields(form).forEach(function (el, i) {
      var name = el.name + "#" + i;
      if (!(name in values) || /version/.test(el.name)) return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = !!values[name];
      else el.value = values[name];
    });
  }
  function same(a, b) {
    return Object.keys(a).every(function (k) { return /version/.test(k) || a[k] === b[k]; });
  }
  function load(key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (e) { return null; }
  }

  // drop old drafts
  for (var i = store.length - 1; i >= 0; i--) {
    var k = store.key(i);
    if (k && k.indexOf(PREFIX) === 0) {
      var old = load(k);
      if (!old || Date.now() - old.at > WEEK) store.removeItem(k);
    }
  }

  // the page after a submission: did the save go through?
  var pending = null;
  try { pending = window.sessionStorage.getItem(PENDING); window.sessionStorage.removeItem(PENDING); } catch (e) {}
  var refusedHere = document.querySelector("input[type=password]") || document.querySelector(".error-page") ||
    document.querySelector("[aria-invalid=true], .has-error, .field-error, .errors, .flash-error");
  if (pending && !refusedHere) store.removeItem(pending);

  if (!user) return;
  Array.prototype.forEach.call(document.forms, function (form) {
    if (!eligible(form)) return;
    var key = keyOf(form);
    var original = read(form);
    var draft = load(key);
    var showsErrors = form.querySelector("[aria-invalid=true], .has-error, .field-error, .errors");
    if (draft && !showsErrors && !same(draft.values, original)) {
      write(form, draft.values);
      var note = document.createElement("div");
      note.className = "flash flash-warning draft-restored";
      note.setAttribute("role", "status");
      var when = new Date(draft.at);
      var changed = Object.keys(original).some(function (k) {
        return /version/.test(k) && k in draft.values && draft.values[k] !== original[k];
      });
      note.textContent = "已恢复您 " + when.getHours() + ":" + String(when.getMinutes()).padStart(2, "0") +
        " 填写但没有保存成功的内容（可能是登录已过期、在别处退出或上传的文件过大）。" +
        (changed ? "此记录在那之后已被修改，请核对后再保存。" : "请核对后再保存。");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "linkbutton";
      discard.textContent = "放弃恢复的内容";
      discard.addEventListener("click", function () {
        write(form, original);
        store.removeItem(key);
        note.remove();
      });
      note.appendChild(document.createTextNode(" "));
      note.appendChild(discard);
      form.parentNode.insertBefore(note, form);
    }
    var timer = null;
    function save() {
      var now = read(form);
      if (same(now, original)) store.removeItem(key);
      else store.setItem(key, JSON.stringify({at: Date.now(), values: now}));
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(save, 300); });
    form.addEventListener("change", save);
    form.addEventListener("submit", function () {
      save();
      try { window.sessionStorage.setItem(PENDING, key); } catch (e) {}
    });
  });
})();
