// Starts Swagger UI on /api/docs (kept out of the page so the CSP needs no inline script).
window.addEventListener("load", function () {
  "use strict";
  window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
