// The interactive API reference: Swagger UI 5 (from the pinned swagger-ui-py package, no CDN) over /openapi.json.
window.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.spec,
    domNode: node,
    deepLinking: true,
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
  });
});
