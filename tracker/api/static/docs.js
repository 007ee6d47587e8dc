// Starts Swagger UI (vendored under static/vendor/swagger-ui) on the API documentation page: the page's
// CSP allows no inline script, so this file does what the stock index.html would do inline.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    supportedSubmitMethods: ["get", "post", "patch"],
  });
});
