/* The progress report form: 期次 lists the chosen period's names (1月…12月, 第一季度…, 上半年/下半年, 全年)
   and follows a change of 填报周期. Without this script the server's list for the period shown is used. */
(function () {
  "use strict";
  var period = document.querySelector("select[name=period]");
  var number = document.querySelector("select[name=period_no]");
  if (!period || !number) return;
  var names = JSON.parse(number.getAttribute("data-periods") || "{}");
  period.addEventListener("change", function () {
    var list = names[period.value] || [];
    var keep = Math.min(parseInt(number.value, 10) || 1, list.length);
    number.innerHTML = "";
    list.forEach(function (name, i) {
      var option = document.createElement("option");
      option.value = String(i + 1);
      option.textContent = name;
      if (i + 1 === keep) option.selected = true;
      number.appendChild(option);
    });
  });
})();
