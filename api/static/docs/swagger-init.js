// Swagger UI over this server's own OpenAPI document: vendored, nothing fetched from the internet.
"use strict";
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
