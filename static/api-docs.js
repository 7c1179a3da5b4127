// Starts Swagger UI on the API documentation page (a file: the CSP forbids inline scripts).
(function () {
  var root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: false,
    tryItOutEnabled: false,
  });
})();
