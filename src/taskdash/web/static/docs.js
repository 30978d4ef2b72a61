// Starts Swagger UI on /docs over this server's OpenAPI document (no inline script, no CDN).
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The "try it out" requests carry the session cookie of whoever is signed in.
    withCredentials: true,
  });
});
